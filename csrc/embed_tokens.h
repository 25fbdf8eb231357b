// Argument checks shared by the CPU and CUDA registrations of embed_tokens.
#pragma once
#include <torch/types.h>

namespace drumgrid {

inline void check_embed_args(const at::Tensor& tokens, const at::Tensor& tables,
                             const at::Tensor& cond) {
  TORCH_CHECK(tokens.dim() == 3, "embed_tokens: expected tokens [B, K, T], got ", tokens.sizes());
  TORCH_CHECK(tables.dim() == 3, "embed_tokens: expected tables [K, V+1, D], got ", tables.sizes());
  TORCH_CHECK(cond.dim() == 3, "embed_tokens: expected cond [B, T, D], got ", cond.sizes());
  TORCH_CHECK(tokens.scalar_type() == at::kLong, "embed_tokens: expected int64 tokens, got ",
              tokens.scalar_type());
  const int64_t B = tokens.size(0), K = tokens.size(1), T = tokens.size(2), D = tables.size(2);
  TORCH_CHECK(tables.size(0) == K, "embed_tokens: expected ", K, " tables, got ", tables.size(0));
  TORCH_CHECK(tables.size(1) >= 1, "embed_tokens: expected tables with at least the MASK row, got ",
              tables.sizes());
  TORCH_CHECK(cond.size(0) == B && cond.size(1) == T && cond.size(2) == D,
              "embed_tokens: expected cond [", B, ", ", T, ", ", D, "], got ", cond.sizes());
  TORCH_CHECK(tables.scalar_type() == at::kFloat || tables.scalar_type() == at::kBFloat16 ||
                  tables.scalar_type() == at::kHalf,
              "embed_tokens: expected float32, bfloat16 or float16 tables, got ",
              tables.scalar_type());
  TORCH_CHECK(cond.scalar_type() == tables.scalar_type(), "embed_tokens: expected cond dtype ",
              tables.scalar_type(), ", got ", cond.scalar_type());
  TORCH_CHECK(tokens.device() == tables.device() && tables.device() == cond.device(),
              "embed_tokens: expected all inputs on one device, got ", tokens.device(), ", ",
              tables.device(), ", ", cond.device());
}

}  // namespace drumgrid
