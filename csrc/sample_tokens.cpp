// sample_tokens, CPU. The result is defined exactly (server/ops/reference.py states the same
// rules in PyTorch, csrc/cuda/sample_tokens.cu computes them on the GPU), for each row of V
// logits x (float32; non-finite values are an error):
//   order     i before j when x_i > x_j, or x_i == x_j and i < j (so argmax ties go low).
//   top-k     0 < k < V keeps the first k tokens in that order; otherwise all.
//   weights   w_i = exp((x_i - x_max) / temperature) in float64 (temperature 1 when it is 0).
//   top-p     p < 1 keeps, of the top-k set C, each i whose mass ranked before it,
//             sum_{j in C, j before i} w_j, is < p * sum_C w (the smallest prefix reaching p).
//   draw      temperature 0: the first token in order (argmax). Otherwise one Philox uniform
//             u per row (philox.h, keyed by seed, offset and the flat row index) and the
//             smallest id i in the final set F with sum_{j in F, j <= i} w_j > u * sum_F w.
//   probs     w_pick / sum_F w, i.e. the chosen token's probability under the filtered,
//             renormalised distribution (at temperature 1 for argmax, for confidences).
// The sums are float64, so implementations that add in different orders pick differently
// only when u * sum_F w or p * sum_C w falls within ~1e-15 (relative) of a boundary.
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/types.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <cmath>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "philox.h"
#include "sample_tokens.h"

namespace drumgrid {
namespace {

struct Params {
  double temperature;  // 0 = argmax
  int64_t top_k;       // active when 0 < top_k < V
  double top_p;        // active when < 1
  uint64_t seed, offset;
};

// The hot loops are compiled for AVX2 as well as the baseline and picked at load time.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DRUMGRID_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DRUMGRID_CLONES
#endif

inline uint32_t float_bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// A float's bits as a signed int with the float's order (-0 folded into +0, as ordered_key).
inline int32_t signed_key(uint32_t b) {
  b = b == 0x80000000u ? 0u : b;
  return static_cast<int32_t>(b ^ (static_cast<uint32_t>(static_cast<int32_t>(b) >> 31) >> 1));
}

// A token's rank key: larger sorts first; unique because the low word is ~id.
inline uint64_t rank_key(float v, int64_t id) {
  return (static_cast<uint64_t>(ordered_key(float_bits(v))) << 32) |
         (0xFFFFFFFFull - static_cast<uint64_t>(id));
}
inline int64_t id_of(uint64_t rk) {
  return static_cast<int64_t>(0xFFFFFFFFull - (rk & 0xFFFFFFFFull));
}

struct Item {
  uint64_t key;  // rank_key
  double w;
};

// One pass over a row split into k disjoint blocks: returns whether the row is all finite;
// *max_key gets the largest signed_key, *bound the smallest of the k block maxima, a lower
// bound on the k-th largest logit (those k maxima are k distinct tokens at or above it).
// With k = 1 it is the plain finiteness check and maximum.
DRUMGRID_CLONES bool scan_blocks(const float* x, int64_t V, int64_t k, int32_t* max_key,
                                 int32_t* bound) {
  const int64_t bs = V / k;
  uint32_t bad = 0;
  int32_t lowest = INT32_MAX, highest = INT32_MIN;
  for (int64_t blk = 0; blk < k; ++blk) {
    const int64_t lo = blk * bs, hi = blk + 1 == k ? V : lo + bs;
    int32_t m = INT32_MIN;
    for (int64_t i = lo; i < hi; ++i) {
      const uint32_t b = float_bits(x[i]);
      bad |= static_cast<uint32_t>((b & 0x7F800000u) == 0x7F800000u);
      const int32_t sk = signed_key(b);
      m = sk > m ? sk : m;
    }
    lowest = m < lowest ? m : lowest;
    highest = m > highest ? m : highest;
  }
  *bound = lowest;
  *max_key = highest;
  return bad == 0;
}

// Writes the rank keys of the tokens at or above `bound` (a signed_key) to out; returns how many.
DRUMGRID_CLONES int64_t collect_candidates(const float* x, int64_t V, int32_t bound, uint64_t* out) {
  int64_t n = 0;
  for (int64_t i = 0; i < V; ++i) {  // branch-free compaction
    const int32_t sk = signed_key(float_bits(x[i]));
    out[n] = (static_cast<uint64_t>(static_cast<uint32_t>(sk) ^ 0x80000000u) << 32) |
             (0xFFFFFFFFull - static_cast<uint64_t>(i));  // == rank_key(x[i], i)
    n += sk >= bound;
  }
  return n;
}

// w[i] = exp_nonpositive((x[i] - xmax) / temp), four lanes at a time with GCC vector types:
// lane for lane the same IEEE operations as the scalar exp_nonpositive, hence the same bits.
#if defined(__GNUC__)
typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int64_t v4l __attribute__((vector_size(32)));
typedef uint64_t v4u __attribute__((vector_size(32)));

DRUMGRID_CLONES void row_weights(const float* x, int64_t V, double xmax, double temp, double* w) {
  const double kInvLn2 = 1.4426950408889634, kLn2Hi = 0.693145751953125;
  const double kLn2Lo = 1.4286068202862268e-06, kRound = 6755399441055744.0;
  const double c[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                        1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,
                        1.0 / 24.0,        1.0 / 6.0,        0.5,             1.0,
                        1.0};
  int64_t i = 0;
  for (; i + 4 <= V; i += 4) {
    v4f xf;
    std::memcpy(&xf, x + i, sizeof xf);
    const v4d d = (__builtin_convertvector(xf, v4d) - xmax) / temp;
    const v4l live = d >= -708.0;
    const v4d xc = live ? d : v4d{} - 708.0;
    const v4d t = xc * kInvLn2 + kRound;
    const v4d n = t - kRound;
    const v4d r = (xc - n * kLn2Hi) - n * kLn2Lo;
    v4d p = v4d{} + 1.0 / 6227020800.0;
    for (int j = 0; j < 13; ++j) p = p * r + c[j];
    const v4u e = ((reinterpret_cast<const v4u&>(t) - 0x4338000000000000ull) + 1023u) << 52;
    const v4d y = p * reinterpret_cast<const v4d&>(e);
    const v4d out = live ? y : v4d{};
    std::memcpy(w + i, &out, sizeof out);
  }
  for (; i < V; ++i) w[i] = exp_nonpositive((static_cast<double>(x[i]) - xmax) / temp);
}
#else
void row_weights(const float* x, int64_t V, double xmax, double temp, double* w) {
  for (int64_t i = 0; i < V; ++i) w[i] = exp_nonpositive((static_cast<double>(x[i]) - xmax) / temp);
}
#endif

// Top-p over items in no particular order: moves the kept items (the prefix, in rank order,
// whose mass before each is < limit) to a[0..n_kept) and returns n_kept. Expected O(n): a
// quickselect that partitions by a pivot and continues on the side that holds the cut.
int64_t top_p_select(Item* a, int64_t n, double limit) {
  int64_t lo = 0, hi = n;  // a[0..lo) kept, a[hi..n) dropped
  double acc = 0.0;        // mass of a[0..lo)
  while (hi - lo > 24) {
    const uint64_t k0 = a[lo].key, k1 = a[lo + (hi - lo) / 2].key, k2 = a[hi - 1].key;
    const uint64_t pivot = std::max(std::min(k0, k1), std::min(std::max(k0, k1), k2));
    Item* mid = std::partition(a + lo, a + hi, [&](const Item& it) { return it.key > pivot; });
    const int64_t m = mid - a;
    double mass = acc;
    for (int64_t j = lo; j < m; ++j) mass += a[j].w;
    if (mass >= limit) {
      hi = m;  // the pivot and everything after it are dropped
    } else {
      Item* p = std::find_if(mid, a + hi, [&](const Item& it) { return it.key == pivot; });
      std::swap(*mid, *p);
      acc = mass + a[m].w;
      lo = m + 1;
    }
  }
  std::sort(a + lo, a + hi, [](const Item& x, const Item& y) { return x.key > y.key; });
  int64_t j = lo;
  while (j < hi && acc < limit) acc += a[j++].w;
  return j;
}

struct Scratch {
  std::vector<uint64_t> cand;
  std::vector<float> xs;
  std::vector<double> w;
  std::vector<Item> items;
  std::vector<std::pair<int64_t, double>> kept;
};

// One row: returns (token id, probability).
std::pair<int64_t, float> sample_row(const float* x, int64_t V, const Params& p, uint64_t row,
                                     Scratch& s) {
  const bool use_k = p.top_k > 0 && p.top_k < V;
  const bool use_p = p.top_p < 1.0;
  const double temp = p.temperature > 0.0 ? p.temperature : 1.0;
  // With top-k, the finiteness check and the maximum come out of the pass that bounds the
  // k-th largest logit (when the blocks are at least two tokens long), saving a pass.
  const bool use_blocks = use_k && 2 * p.top_k <= V;
  int32_t max_key, block_bound;
  TORCH_CHECK(scan_blocks(x, V, use_blocks ? p.top_k : 1, &max_key, &block_bound),
              "sample_tokens: expected finite logits, got NaN or inf in row ", row);
  const int32_t bound = use_blocks ? block_bound : INT32_MIN;
  const uint32_t max_bits = static_cast<uint32_t>(max_key) ^
                            (static_cast<uint32_t>(max_key >> 31) >> 1);
  float xmax_f;
  std::memcpy(&xmax_f, &max_bits, sizeof xmax_f);
  const double xmax = xmax_f;

  // items[0..n): the final set F with its weights.
  std::vector<Item>& items = s.items;
  int64_t n = 0;
  if (use_k) {
    const int64_t k = p.top_k;
    auto& cand = s.cand;
    cand.resize(V);
    const int64_t nc = collect_candidates(x, V, bound, cand.data());
    std::nth_element(cand.begin(), cand.begin() + (k - 1), cand.begin() + nc,
                     std::greater<uint64_t>());
    std::sort(cand.begin(), cand.begin() + k, std::greater<uint64_t>());
    auto& xs = s.xs;
    auto& w = s.w;
    xs.resize(k);
    w.resize(k);
    for (int64_t j = 0; j < k; ++j) xs[j] = x[id_of(cand[j])];
    row_weights(xs.data(), k, xmax, temp, w.data());
    items.resize(k);
    for (int64_t j = 0; j < k; ++j) items[j] = {cand[j], w[j]};
    n = k;
    if (use_p) {
      double total = 0.0;
      for (int64_t j = 0; j < n; ++j) total += items[j].w;
      const double limit = p.top_p * total;
      double acc = 0.0;
      int64_t j = 0;
      while (j < n && acc < limit) acc += items[j++].w;
      n = j;
    }
  } else {
    auto& w = s.w;
    w.resize(V);
    row_weights(x, V, xmax, temp, w.data());
    if (!use_p) {
      // No filter: F is the whole row, in id order; no items needed.
      double total = 0.0;
      for (int64_t i = 0; i < V; ++i) total += w[i];
      if (p.temperature == 0.0) {
        int64_t arg = 0;
        while (x[arg] != xmax_f) ++arg;  // first maximum (-0 == +0 like the reference)
        return {arg, static_cast<float>(1.0 / total)};
      }
      const double target = philox_uniform(p.seed, p.offset, row) * total;
      double cdf = 0.0;
      int64_t pick = -1;
      for (int64_t i = 0; i < V; ++i) {
        cdf += w[i];
        if (w[i] > 0.0) {
          pick = i;  // the last positive-weight token if rounding leaves cdf <= target
          if (cdf > target) break;
        }
      }
      return {pick, static_cast<float>(w[pick] / total)};
    }
    items.resize(V);
    double total = 0.0;
    for (int64_t i = 0; i < V; ++i) {
      items[i] = {rank_key(x[i], i), w[i]};
      total += w[i];
    }
    n = top_p_select(items.data(), V, p.top_p * total);
  }

  double total = 0.0;
  uint64_t best = 0;
  for (int64_t j = 0; j < n; ++j) {
    total += items[j].w;
    best = std::max(best, items[j].key);
  }
  if (p.temperature == 0.0) {
    // x_max is the argmax's own logit, so its weight is exp(0) = 1.
    return {id_of(best), static_cast<float>(1.0 / total)};
  }
  const double target = philox_uniform(p.seed, p.offset, row) * total;
  auto& kept = s.kept;
  kept.resize(n);
  for (int64_t j = 0; j < n; ++j) kept[j] = {id_of(items[j].key), items[j].w};
  std::sort(kept.begin(), kept.end());  // id order
  double cdf = 0.0;
  int64_t pick = -1;
  double w_pick = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    cdf += kept[j].second;
    if (kept[j].second > 0.0) {
      pick = kept[j].first;  // the last positive-weight token if rounding leaves cdf <= target
      w_pick = kept[j].second;
      if (cdf > target) break;
    }
  }
  return {pick, static_cast<float>(w_pick / total)};
}

std::tuple<at::Tensor, at::Tensor> sample_tokens_cpu(const at::Tensor& logits, double temperature,
                                                     int64_t top_k, double top_p, int64_t seed,
                                                     int64_t offset) {
  check_sample_args(logits, temperature, top_p);
  const int64_t B = logits.size(0), K = logits.size(1), T = logits.size(2), V = logits.size(3);
  auto x = logits.to(at::kFloat).contiguous();
  auto tokens = at::empty({B, K, T}, logits.options().dtype(at::kLong));
  auto probs = at::empty({B, K, T}, logits.options().dtype(at::kFloat));
  const int64_t rows = B * K * T;
  if (rows == 0) return {tokens, probs};
  const Params p{temperature, top_k, top_p, static_cast<uint64_t>(seed),
                 static_cast<uint64_t>(offset)};
  const float* xp = x.data_ptr<float>();
  int64_t* tp = tokens.data_ptr<int64_t>();
  float* pp = probs.data_ptr<float>();
  const int64_t grain = std::max<int64_t>(1, 65536 / V);  // ~100 us of work per task
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    Scratch s;
    for (int64_t r = begin; r < end; ++r) {
      const auto [tok, prob] = sample_row(xp + r * V, V, p, static_cast<uint64_t>(r), s);
      tp[r] = tok;
      pp[r] = prob;
    }
  });
  return {tokens, probs};
}

}  // namespace

TORCH_LIBRARY_IMPL(drumgrid, CPU, m) { m.impl("sample_tokens", &sample_tokens_cpu); }

}  // namespace drumgrid
