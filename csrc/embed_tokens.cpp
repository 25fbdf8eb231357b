// embed_tokens, CPU: out[b, t] = cond[b, t] + sum_k tables[k, tokens[b, k, t]], accumulated in
// float32 in the order cond, k = 0..K-1 (the CUDA kernel and the reference use the same order,
// so float32 results agree bit for bit). Frames run in parallel (at::parallel_for); the inner
// loop over D is a plain loop that GCC vectorises, compiled for AVX2 and the baseline and
// picked at load time.
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/types.h>

#include <cstring>
#include <vector>

#include "embed_tokens.h"

namespace drumgrid {
namespace {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DRUMGRID_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DRUMGRID_CLONES
#endif

DRUMGRID_CLONES void add_f32(float* __restrict__ acc, const float* __restrict__ row, int64_t D) {
  for (int64_t d = 0; d < D; ++d) acc[d] += row[d];
}

// bfloat16 is the top half of a float32: widen by shifting the bits.
DRUMGRID_CLONES void add_bf16(float* __restrict__ acc, const uint16_t* __restrict__ row,
                              int64_t D) {
  for (int64_t d = 0; d < D; ++d) {
    const uint32_t bits = static_cast<uint32_t>(row[d]) << 16;
    float v;
    std::memcpy(&v, &bits, sizeof v);
    acc[d] += v;
  }
}

// float32 fast path: out = cond + sum_k rows[k], a block of 32 lanes at a time so the running
// sum stays in registers across the K rows (same addition order as the generic path).
DRUMGRID_CLONES void sum_rows_f32(float* __restrict__ out, const float* __restrict__ cond,
                                  const float* const* rows, int64_t K, int64_t D) {
  constexpr int64_t W = 32;
  int64_t d = 0;
  for (; d + W <= D; d += W) {
    float acc[W];
    for (int64_t i = 0; i < W; ++i) acc[i] = cond[d + i];
    for (int64_t k = 0; k < K; ++k) {
      const float* __restrict__ r = rows[k] + d;
      for (int64_t i = 0; i < W; ++i) acc[i] += r[i];
    }
    for (int64_t i = 0; i < W; ++i) out[d + i] = acc[i];
  }
  for (; d < D; ++d) {
    float acc = cond[d];
    for (int64_t k = 0; k < K; ++k) acc += rows[k][d];
    out[d] = acc;
  }
}

template <typename scalar_t>
void add_row(float* acc, const scalar_t* row, int64_t D) {
  if constexpr (std::is_same_v<scalar_t, float>) {
    add_f32(acc, row, D);
  } else if constexpr (std::is_same_v<scalar_t, at::BFloat16>) {
    add_bf16(acc, reinterpret_cast<const uint16_t*>(row), D);
  } else {
    for (int64_t d = 0; d < D; ++d) acc[d] += static_cast<float>(row[d]);
  }
}

// out = cond + sum_k rows[k] for one frame, accumulated in float32 (acc: D floats of scratch).
template <typename scalar_t>
void sum_rows(scalar_t* out, const scalar_t* cond, const scalar_t* const* rows, int64_t K,
              int64_t D, float* acc) {
  for (int64_t d = 0; d < D; ++d) acc[d] = static_cast<float>(cond[d]);
  for (int64_t k = 0; k < K; ++k) add_row(acc, rows[k], D);
  for (int64_t d = 0; d < D; ++d) out[d] = static_cast<scalar_t>(acc[d]);
}

inline void sum_rows(float* out, const float* cond, const float* const* rows, int64_t K,
                     int64_t D, float* /*acc*/) {
  sum_rows_f32(out, cond, rows, K, D);
}

at::Tensor embed_tokens_cpu(const at::Tensor& tokens, const at::Tensor& tables,
                            const at::Tensor& cond) {
  check_embed_args(tokens, tables, cond);
  const int64_t B = tokens.size(0), K = tokens.size(1), T = tokens.size(2);
  const int64_t V1 = tables.size(1), D = tables.size(2);
  auto tok = tokens.contiguous();
  auto tab = tables.contiguous();
  auto cnd = cond.contiguous();
  auto out = at::empty({B, T, D}, cnd.options());
  const int64_t* tok_p = tok.data_ptr<int64_t>();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, tab.scalar_type(), "embed_tokens", [&] {
    const scalar_t* tab_p = tab.const_data_ptr<scalar_t>();
    const scalar_t* cond_p = cnd.const_data_ptr<scalar_t>();
    scalar_t* out_p = out.data_ptr<scalar_t>();
    // at least ~256K table elements per task: a decoding step of one short clip (B=1, K=4,
    // T=200, D=512) still splits across two cores, tiny inputs stay on the calling thread
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(1, K * D));
    at::parallel_for(0, B * T, grain, [&](int64_t begin, int64_t end) {
      std::vector<float> acc(D);
      std::vector<const scalar_t*> rows(K);
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / T, t = row % T;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t id = tok_p[(b * K + k) * T + t];
          TORCH_CHECK(id >= 0 && id < V1, "embed_tokens: expected token ids in [0, ", V1 - 1,
                      "] (", V1 - 1, " = MASK), got ", id, " at (", b, ", ", k, ", ", t, ")");
          rows[k] = tab_p + (k * V1 + id) * D;
        }
        const scalar_t* c = cond_p + row * D;
        scalar_t* o = out_p + row * D;
        sum_rows(o, c, rows.data(), K, D, acc.data());
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(drumgrid, CPU, m) { m.impl("embed_tokens", &embed_tokens_cpu); }

}  // namespace drumgrid
