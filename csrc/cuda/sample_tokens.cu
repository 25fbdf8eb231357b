// sample_tokens, CUDA: one block per row, sorting-free. The row's order keys and float64
// weights live in shared memory; top-k is a radix select (four 8-bit digit histograms) for the
// k-th largest key, top-p a bisection over the key space for the cut where the mass ranked
// before a token reaches p, and the draw a block-wide prefix sum in id order against one
// Philox uniform. The rules (and so the results) are those at the top of
// csrc/sample_tokens.cpp; only float64 summation order differs. Torch-free, like all .cu here.
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/common.cuh"
#include "cuda/kernels.h"
#include "philox.h"

namespace drumgrid {
namespace {

constexpr int kThreads = 256;

struct MaxOp {
  template <typename U>
  __device__ __forceinline__ U operator()(const U& a, const U& b) const { return a > b ? a : b; }
};
struct MinOp {
  template <typename U>
  __device__ __forceinline__ U operator()(const U& a, const U& b) const { return a < b ? a : b; }
};
struct SumOp {
  __device__ __forceinline__ double operator()(double a, double b) const { return __dadd_rn(a, b); }
};

__device__ __forceinline__ float key_to_float(uint32_t k) {
  return __uint_as_float((k & 0x80000000u) ? (k ^ 0x80000000u) : ~k);
}

using ReduceU64 = cub::BlockReduce<unsigned long long, kThreads>;
using ReduceI64 = cub::BlockReduce<long long, kThreads>;
using ReduceD = cub::BlockReduce<double, kThreads>;
using ScanD = cub::BlockScan<double, kThreads>;
using ScanI = cub::BlockScan<int, kThreads>;

struct Shared {
  union {
    typename ReduceU64::TempStorage u64;
    typename ReduceI64::TempStorage i64;
    typename ReduceD::TempStorage d;
    typename ScanD::TempStorage scan_d;
    typename ScanI::TempStorage scan_i;
  } tmp;
  unsigned long long u64;
  long long i64;
  double d;
  uint32_t prefix;
  int need;
  int hist[256];
};

// Block-wide reductions whose result every thread gets; each leaves the storage reusable.
__device__ double block_sum(Shared& sh, double v) {
  const double r = ReduceD(sh.tmp.d).Reduce(v, SumOp());
  if (threadIdx.x == 0) sh.d = r;
  __syncthreads();
  const double out = sh.d;
  __syncthreads();
  return out;
}
__device__ unsigned long long block_max_u64(Shared& sh, unsigned long long v) {
  const unsigned long long r = ReduceU64(sh.tmp.u64).Reduce(v, MaxOp());
  if (threadIdx.x == 0) sh.u64 = r;
  __syncthreads();
  const unsigned long long out = sh.u64;
  __syncthreads();
  return out;
}
__device__ long long block_min_i64(Shared& sh, long long v) {
  const long long r = ReduceI64(sh.tmp.i64).Reduce(v, MinOp());
  if (threadIdx.x == 0) sh.i64 = r;
  __syncthreads();
  const long long out = sh.i64;
  __syncthreads();
  return out;
}
__device__ long long block_max_i64(Shared& sh, long long v) {
  const long long r = ReduceI64(sh.tmp.i64).Reduce(v, MaxOp());
  if (threadIdx.x == 0) sh.i64 = r;
  __syncthreads();
  const long long out = sh.i64;
  __syncthreads();
  return out;
}
__device__ int block_exclusive_count(Shared& sh, int v) {
  int out;
  ScanI(sh.tmp.scan_i).ExclusiveSum(v, out);
  __syncthreads();
  return out;
}
__device__ double block_exclusive_sum(Shared& sh, double v) {
  double out;
  ScanD(sh.tmp.scan_d).ExclusiveScan(v, out, 0.0, SumOp());
  __syncthreads();
  return out;
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    sample_tokens_kernel(const T* __restrict__ logits, int64_t V, SampleArgs a,
                         int64_t* __restrict__ tokens, float* __restrict__ probs,
                         int* __restrict__ error_flag) {
  extern __shared__ __align__(16) unsigned char smem[];
  double* w = reinterpret_cast<double*>(smem);         // [V] weights, 0 outside the kept set
  uint32_t* key = reinterpret_cast<uint32_t*>(w + V);  // [V] order keys (ordered_key)
  __shared__ Shared sh;
  const int tid = threadIdx.x;
  const int64_t row = blockIdx.x;
  const T* x = logits + row * V;
  // Each thread owns a contiguous chunk for the passes that need id order.
  const int64_t chunk = (V + kThreads - 1) / kThreads;
  const int64_t c_lo = min(V, tid * chunk), c_hi = min(V, c_lo + chunk);

  // Load: order keys, the finite check, and the argmax (best rank key = max key, lowest id).
  int bad = 0;
  unsigned long long best = 0;
  for (int64_t i = tid; i < V; i += kThreads) {
    const uint32_t b = __float_as_uint(to_float(x[i]));
    bad |= (b & 0x7F800000u) == 0x7F800000u;
    const uint32_t k = ordered_key(b);
    key[i] = k;
    const unsigned long long rk = (static_cast<unsigned long long>(k) << 32) |
                                  (0xFFFFFFFFull - static_cast<unsigned long long>(i));
    best = rk > best ? rk : best;
  }
  if (__syncthreads_or(bad)) {
    if (tid == 0) {
      atomicOr(error_flag, 1);
      tokens[row] = -1;
      probs[row] = 0.0f;
    }
    return;
  }
  best = block_max_u64(sh, best);
  const int64_t argmax = static_cast<int64_t>(0xFFFFFFFFull - (best & 0xFFFFFFFFull));
  const double xmax = key_to_float(static_cast<uint32_t>(best >> 32));
  const double temp = a.temperature > 0.0 ? a.temperature : 1.0;

  // Top-k: the k-th largest key tau by radix select; keep keys > tau and the `need` lowest ids
  // with key == tau.
  const bool use_k = a.top_k > 0 && a.top_k < V;
  uint32_t tau = 0;
  int need = static_cast<int>(V);
  if (use_k) {
    uint32_t prefix = 0, mask = 0;
    int remaining = static_cast<int>(a.top_k);
    for (int shift = 24; shift >= 0; shift -= 8) {
      for (int j = tid; j < 256; j += kThreads) sh.hist[j] = 0;
      __syncthreads();
      for (int64_t i = tid; i < V; i += kThreads) {
        const uint32_t k = key[i];
        if ((k & mask) == prefix) atomicAdd(&sh.hist[(k >> shift) & 255u], 1);
      }
      __syncthreads();
      if (tid == 0) {
        int cum = 0, d = 255;
        for (; d > 0; --d) {
          if (cum + sh.hist[d] >= remaining) break;
          cum += sh.hist[d];
        }
        sh.prefix = prefix | (static_cast<uint32_t>(d) << shift);
        sh.need = remaining - cum;
      }
      __syncthreads();
      prefix = sh.prefix;
      remaining = sh.need;
      mask |= 255u << shift;
    }
    tau = prefix;
    need = remaining;
  }
  int ties = 0;
  for (int64_t i = c_lo; i < c_hi; ++i) ties += key[i] == tau;
  int tie_rank = block_exclusive_count(sh, ties);
  double part = 0.0;
  for (int64_t i = c_lo; i < c_hi; ++i) {
    const uint32_t k = key[i];
    bool member = true;
    if (use_k) {
      member = k > tau || (k == tau && tie_rank < need);
      tie_rank += k == tau;
    }
    const double xi = key_to_float(k);
    const double wi = member ? exp_nonpositive(__ddiv_rn(__dsub_rn(xi, xmax), temp)) : 0.0;
    w[i] = wi;
    part = __dadd_rn(part, wi);
  }
  double total = block_sum(sh, part);

  // Top-p: tau0 = the smallest key level whose strictly-higher mass is < p * total; the cut
  // level is the smallest kept key >= tau0, where ties go by id while the mass before is < limit.
  if (a.top_p < 1.0) {
    const double limit = __dmul_rn(a.top_p, total);
    uint32_t lo = 0, hi = 0xFFFFFFFFu;
    while (lo < hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      double g = 0.0;
      for (int64_t i = c_lo; i < c_hi; ++i) g = key[i] > mid ? __dadd_rn(g, w[i]) : g;
      if (block_sum(sh, g) < limit) hi = mid; else lo = mid + 1;
    }
    long long cut = 0x7FFFFFFFFFFFFFFFll;
    for (int64_t i = c_lo; i < c_hi; ++i) {
      if (w[i] > 0.0 && key[i] >= lo) cut = min(cut, static_cast<long long>(key[i]));
    }
    const uint32_t level = static_cast<uint32_t>(block_min_i64(sh, cut));
    double g = 0.0, w_level = 0.0;
    int n_level = 0;
    for (int64_t i = c_lo; i < c_hi; ++i) {
      if (key[i] > level) g = __dadd_rn(g, w[i]);
      if (key[i] == level && w[i] > 0.0) {
        ++n_level;
        w_level = w[i];  // equal keys, equal weights
      }
    }
    const double mass_above = block_sum(sh, g);
    int rank = block_exclusive_count(sh, n_level);
    part = 0.0;
    for (int64_t i = c_lo; i < c_hi; ++i) {
      const uint32_t k = key[i];
      bool keep = k > level;
      if (k == level && w[i] > 0.0) {
        keep = __dadd_rn(mass_above, __dmul_rn(static_cast<double>(rank), w_level)) < limit;
        ++rank;
      }
      if (!keep) w[i] = 0.0;
      part = __dadd_rn(part, w[i]);
    }
    total = block_sum(sh, part);
  }

  int64_t pick = argmax;
  if (a.temperature > 0.0) {
    const double target = __dmul_rn(philox_uniform(a.seed, a.offset, static_cast<uint64_t>(row)), total);
    part = 0.0;
    for (int64_t i = c_lo; i < c_hi; ++i) part = __dadd_rn(part, w[i]);
    double run = block_exclusive_sum(sh, part);
    long long first = 0x7FFFFFFFFFFFFFFFll, last = -1;
    for (int64_t i = c_lo; i < c_hi; ++i) {
      run = __dadd_rn(run, w[i]);
      if (w[i] > 0.0) {
        last = i;
        if (run > target && first == 0x7FFFFFFFFFFFFFFFll) first = i;
      }
    }
    first = block_min_i64(sh, first);
    pick = first != 0x7FFFFFFFFFFFFFFFll ? first : block_max_i64(sh, last);
  }
  if (tid == 0) {
    tokens[row] = pick;
    probs[row] = static_cast<float>(__ddiv_rn(w[pick], total));
  }
}

template <typename T>
int launch(const void* logits, int64_t rows, int64_t V, const SampleArgs& args, int64_t* tokens,
           float* probs, int* error_flag, void* stream) {
  if (rows == 0) return 0;
  const size_t smem = static_cast<size_t>(V) * (sizeof(double) + sizeof(uint32_t));
  if (smem > 48 * 1024) {
    const cudaError_t err = cudaFuncSetAttribute(
        sample_tokens_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (err != cudaSuccess) return static_cast<int>(err);
  }
  sample_tokens_kernel<T><<<static_cast<unsigned>(rows), kThreads, smem,
                            static_cast<cudaStream_t>(stream)>>>(
      static_cast<const T*>(logits), V, args, tokens, probs, error_flag);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int sample_tokens_cuda_launch(DType dtype, const void* logits, int64_t rows, int64_t V,
                              const SampleArgs& args, int64_t* tokens, float* probs,
                              int* error_flag, void* stream) {
  switch (dtype) {
    case DType::kFloat32: return launch<float>(logits, rows, V, args, tokens, probs, error_flag, stream);
    case DType::kFloat16: return launch<__half>(logits, rows, V, args, tokens, probs, error_flag, stream);
    case DType::kBFloat16:
      return launch<__nv_bfloat16>(logits, rows, V, args, tokens, probs, error_flag, stream);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

}  // namespace drumgrid
