// Argument checks shared by the CPU and CUDA registrations of sample_tokens.
#pragma once
#include <torch/types.h>

#include <cmath>
#include <limits>

namespace drumgrid {

inline void check_sample_args(const at::Tensor& logits, double temperature, double top_p) {
  TORCH_CHECK(logits.dim() == 4, "sample_tokens: expected logits [B, K, T, V], got ",
              logits.sizes());
  TORCH_CHECK(logits.scalar_type() == at::kFloat || logits.scalar_type() == at::kHalf ||
                  logits.scalar_type() == at::kBFloat16,
              "sample_tokens: expected float32, float16 or bfloat16 logits, got ",
              logits.scalar_type());
  TORCH_CHECK(logits.size(3) >= 1, "sample_tokens: expected a vocabulary of at least 1, got V=",
              logits.size(3));
  TORCH_CHECK(logits.size(3) < std::numeric_limits<int32_t>::max(),
              "sample_tokens: expected V < 2^31, got ", logits.size(3));
  TORCH_CHECK(std::isfinite(temperature) && temperature >= 0.0,
              "sample_tokens: expected a finite temperature >= 0, got ", temperature);
  TORCH_CHECK(top_p > 0.0, "sample_tokens: expected top_p > 0 (>= 1 disables it), got ", top_p);
}

}  // namespace drumgrid
