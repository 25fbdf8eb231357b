// Registers the CUDA kernels with the drumgrid op library. Compiled only in CUDA builds; it
// reaches torch's current stream through c10's device-generic interface, so it needs no
// CUDA torch headers or libraries at build time.
#include <c10/core/Stream.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/library.h>
#include <torch/types.h>

#include "cuda/kernels.h"

namespace drumgrid {
namespace {

void* current_stream(const at::Tensor& t) {
  const auto* impl = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
  return impl->getStream(t.device()).native_handle();
}

DType dtype_of(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return DType::kFloat32;
    case at::kHalf: return DType::kFloat16;
    case at::kBFloat16: return DType::kBFloat16;
    default: TORCH_CHECK(false, "drumgrid CUDA ops: expected float32, float16 or bfloat16, got ", t.scalar_type());
  }
}

void check_launch(int code, const char* op) {
  TORCH_CHECK(code == 0, op, ": CUDA launch failed: ", cuda_error_string(code));
}

at::Tensor embed_tokens_cuda(const at::Tensor& tokens, const at::Tensor& tables,
                             const at::Tensor& cond) {
  TORCH_CHECK(tokens.dim() == 3 && tables.dim() == 3 && cond.dim() == 3,
              "embed_tokens: expected tokens [B, K, T], tables [K, V+1, D], cond [B, T, D]");
  TORCH_CHECK(tokens.scalar_type() == at::kLong, "embed_tokens: expected int64 tokens, got ",
              tokens.scalar_type());
  const int64_t B = tokens.size(0), K = tokens.size(1), T = tokens.size(2);
  const int64_t V1 = tables.size(1), D = tables.size(2);
  TORCH_CHECK(tables.size(0) == K && cond.size(0) == B && cond.size(1) == T && cond.size(2) == D,
              "embed_tokens: shapes disagree: tokens ", tokens.sizes(), ", tables ",
              tables.sizes(), ", cond ", cond.sizes());
  TORCH_CHECK(cond.scalar_type() == tables.scalar_type(), "embed_tokens: expected cond dtype ",
              tables.scalar_type(), ", got ", cond.scalar_type());
  if (tokens.numel() > 0) {
    const bool ok = tokens.ge(0).logical_and(tokens.lt(V1)).all().item<bool>();
    TORCH_CHECK(ok, "embed_tokens: a token id is outside [0, ", V1 - 1, "]");
  }
  auto tok = tokens.contiguous();
  auto tab = tables.contiguous();
  auto cnd = cond.contiguous();
  auto out = at::empty_like(cnd);
  check_launch(embed_tokens_cuda_launch(dtype_of(tab), tok.data_ptr<int64_t>(), tab.data_ptr(),
                                        cnd.data_ptr(), out.data_ptr(), B, K, T, V1, D,
                                        current_stream(tok)),
               "embed_tokens");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(drumgrid, CUDA, m) { m.impl("embed_tokens", &embed_tokens_cuda); }

}  // namespace drumgrid
