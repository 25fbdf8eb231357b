// embed_tokens, CPU: out[b, t] = cond[b, t] + sum_k tables[k, tokens[b, k, t]].
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/types.h>

namespace drumgrid {

at::Tensor embed_tokens_cpu(const at::Tensor& tokens, const at::Tensor& tables,
                            const at::Tensor& cond) {
  TORCH_CHECK(tokens.dim() == 3, "embed_tokens: expected tokens [B, K, T], got ", tokens.sizes());
  TORCH_CHECK(tables.dim() == 3, "embed_tokens: expected tables [K, V+1, D], got ", tables.sizes());
  TORCH_CHECK(cond.dim() == 3, "embed_tokens: expected cond [B, T, D], got ", cond.sizes());
  TORCH_CHECK(tokens.scalar_type() == at::kLong, "embed_tokens: expected int64 tokens, got ",
              tokens.scalar_type());
  const int64_t B = tokens.size(0), K = tokens.size(1), T = tokens.size(2);
  const int64_t V1 = tables.size(1), D = tables.size(2);
  TORCH_CHECK(tables.size(0) == K, "embed_tokens: expected ", K, " tables, got ", tables.size(0));
  TORCH_CHECK(cond.size(0) == B && cond.size(1) == T && cond.size(2) == D,
              "embed_tokens: expected cond [", B, ", ", T, ", ", D, "], got ", cond.sizes());
  TORCH_CHECK(cond.scalar_type() == tables.scalar_type(), "embed_tokens: expected cond dtype ",
              tables.scalar_type(), ", got ", cond.scalar_type());
  auto tok = tokens.contiguous();
  auto tab = tables.contiguous();
  auto out = cond.contiguous().clone();
  const int64_t* tok_p = tok.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, tab.scalar_type(), "embed_tokens", [&] {
    const scalar_t* tab_p = tab.data_ptr<scalar_t>();
    scalar_t* out_p = out.data_ptr<scalar_t>();
    at::parallel_for(0, B * T, 16, [&](int64_t begin, int64_t end) {
      std::vector<float> acc(D);
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / T, t = row % T;
        scalar_t* o = out_p + row * D;
        for (int64_t d = 0; d < D; ++d) acc[d] = static_cast<float>(o[d]);
        for (int64_t k = 0; k < K; ++k) {
          const int64_t id = tok_p[(b * K + k) * T + t];
          TORCH_CHECK(id >= 0 && id < V1, "embed_tokens: token id ", id, " at (", b, ", ", k,
                      ", ", t, ") is outside [0, ", V1 - 1, "]");
          const scalar_t* r = tab_p + (k * V1 + id) * D;
          for (int64_t d = 0; d < D; ++d) acc[d] += static_cast<float>(r[d]);
        }
        for (int64_t d = 0; d < D; ++d) o[d] = static_cast<scalar_t>(acc[d]);
      }
    });
  });
  return out;
}

TORCH_LIBRARY_IMPL(drumgrid, CPU, m) { m.impl("embed_tokens", &embed_tokens_cpu); }

}  // namespace drumgrid
