// Registers the CUDA kernels with the drumgrid op library. Compiled only in CUDA builds; it
// reaches torch's current stream through c10's device-generic interface, so it needs no
// CUDA torch headers or libraries at build time.
#include <c10/core/DeviceGuard.h>
#include <c10/core/Stream.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/library.h>
#include <torch/types.h>

#include <tuple>

#include "cuda/kernels.h"
#include "embed_tokens.h"
#include "sample_tokens.h"

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

// Raises `message` when the kernel set *flag. Reading the flag synchronises the stream, which a
// CUDA graph capture forbids: there the check is skipped (the kernels never read out of bounds).
void check_flag(const at::Tensor& flag, void* stream, const char* message) {
  bool capturing = false;
  check_launch(stream_is_capturing(stream, &capturing), "drumgrid");
  if (capturing) return;
  TORCH_CHECK(flag.item<int>() == 0, message);
}

at::Tensor embed_tokens_cuda(const at::Tensor& tokens, const at::Tensor& tables,
                             const at::Tensor& cond) {
  check_embed_args(tokens, tables, cond);
  const int64_t B = tokens.size(0), K = tokens.size(1), T = tokens.size(2);
  const int64_t V1 = tables.size(1), D = tables.size(2);
  const c10::DeviceGuard guard(tokens.device());
  auto tok = tokens.contiguous();
  auto tab = tables.contiguous();
  auto cnd = cond.contiguous();
  auto out = at::empty_like(cnd, at::MemoryFormat::Contiguous);
  if (out.numel() == 0) return out;
  auto flag = at::zeros({1}, tok.options().dtype(at::kInt));
  void* stream = current_stream(tok);
  check_launch(embed_tokens_cuda_launch(dtype_of(tab), tok.data_ptr<int64_t>(), tab.data_ptr(),
                                        cnd.data_ptr(), out.data_ptr(), B, K, T, V1, D,
                                        flag.data_ptr<int>(), stream),
               "embed_tokens");
  check_flag(flag, stream, "embed_tokens: expected token ids in [0, V] (V = MASK), got one outside");
  return out;
}

std::tuple<at::Tensor, at::Tensor> sample_tokens_cuda(const at::Tensor& logits, double temperature,
                                                      int64_t top_k, double top_p, int64_t seed,
                                                      int64_t offset) {
  check_sample_args(logits, temperature, top_p);
  const c10::DeviceGuard guard(logits.device());
  const int64_t B = logits.size(0), K = logits.size(1), T = logits.size(2), V = logits.size(3);
  auto x = logits.contiguous();
  auto tokens = at::empty({B, K, T}, logits.options().dtype(at::kLong));
  auto probs = at::empty({B, K, T}, logits.options().dtype(at::kFloat));
  const int64_t rows = B * K * T;
  if (rows == 0) return {tokens, probs};
  auto flag = at::zeros({1}, logits.options().dtype(at::kInt));
  void* stream = current_stream(x);
  const SampleArgs args{temperature, top_k, top_p, static_cast<uint64_t>(seed),
                        static_cast<uint64_t>(offset)};
  check_launch(sample_tokens_cuda_launch(dtype_of(x), x.data_ptr(), rows, V, args,
                                         tokens.data_ptr<int64_t>(), probs.data_ptr<float>(),
                                         flag.data_ptr<int>(), stream),
               "sample_tokens");
  check_flag(flag, stream, "sample_tokens: expected finite logits, got NaN or inf");
  return {tokens, probs};
}

}  // namespace

TORCH_LIBRARY_IMPL(drumgrid, CUDA, m) {
  m.impl("embed_tokens", &embed_tokens_cuda);
  m.impl("sample_tokens", &sample_tokens_cuda);
}

}  // namespace drumgrid
