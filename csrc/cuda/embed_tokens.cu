// embed_tokens, CUDA: one block per frame (b, t) reads its K token ids once into shared memory
// and accumulates the K table rows in fp32 with 16-byte loads (4 floats or 8 halves) when
// D and the pointers allow, scalar loads otherwise. Summation order (cond, then k = 0..K-1)
// matches the CPU kernel and the reference, so float32 results agree bit for bit.
// Torch-free on purpose (raw pointers, a stream handle) so it compiles with nvcc alone.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/common.cuh"
#include "cuda/kernels.h"

namespace drumgrid {
namespace {

template <typename T>
__device__ __forceinline__ void load_ids(const int64_t* __restrict__ tokens, int64_t* ids,
                                         int64_t b, int64_t t, int64_t K, int64_t T_len,
                                         int64_t V1, int* error_flag) {
  for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
    int64_t id = tokens[(b * K + k) * T_len + t];
    if (id < 0 || id >= V1) {
      atomicOr(error_flag, 1);
      id = V1 - 1;  // the MASK row: the host raises, nothing reads out of bounds meanwhile
    }
    ids[k] = id;
  }
  __syncthreads();
}

// VEC elements of T per 16-byte load.
template <typename T, int VEC>
__global__ void embed_tokens_kernel(const int64_t* __restrict__ tokens, const T* __restrict__ tables,
                                    const T* __restrict__ cond, T* __restrict__ out, int64_t K,
                                    int64_t T_len, int64_t V1, int64_t D, int* error_flag) {
  extern __shared__ int64_t ids[];  // [K]
  const int64_t row = blockIdx.x;   // b * T + t
  load_ids<T>(tokens, ids, row / T_len, row % T_len, K, T_len, V1, error_flag);
  struct alignas(16) Pack {
    T v[VEC];
  };
  const int64_t n_vec = D / VEC;
  for (int64_t j = threadIdx.x; j < n_vec; j += blockDim.x) {
    const Pack c = reinterpret_cast<const Pack*>(cond + row * D)[j];
    float acc[VEC];
#pragma unroll
    for (int e = 0; e < VEC; ++e) acc[e] = to_float(c.v[e]);
    for (int64_t k = 0; k < K; ++k) {
      const Pack r = reinterpret_cast<const Pack*>(tables + (k * V1 + ids[k]) * D)[j];
#pragma unroll
      for (int e = 0; e < VEC; ++e) acc[e] += to_float(r.v[e]);
    }
    Pack o;
#pragma unroll
    for (int e = 0; e < VEC; ++e) o.v[e] = from_float<T>(acc[e]);
    reinterpret_cast<Pack*>(out + row * D)[j] = o;
  }
}

template <typename T>
__global__ void embed_tokens_scalar_kernel(const int64_t* __restrict__ tokens,
                                           const T* __restrict__ tables, const T* __restrict__ cond,
                                           T* __restrict__ out, int64_t K, int64_t T_len,
                                           int64_t V1, int64_t D, int* error_flag) {
  extern __shared__ int64_t ids[];  // [K]
  const int64_t row = blockIdx.x;
  load_ids<T>(tokens, ids, row / T_len, row % T_len, K, T_len, V1, error_flag);
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = to_float(cond[row * D + d]);
    for (int64_t k = 0; k < K; ++k) acc += to_float(tables[(k * V1 + ids[k]) * D + d]);
    out[row * D + d] = from_float<T>(acc);
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

template <typename T>
int launch(const int64_t* tokens, const void* tables, const void* cond, void* out, int64_t B,
           int64_t K, int64_t T_len, int64_t V1, int64_t D, int* error_flag, void* stream) {
  if (B * T_len == 0 || D == 0) return 0;
  constexpr int VEC = 16 / sizeof(T);
  const size_t smem = static_cast<size_t>(K > 0 ? K : 1) * sizeof(int64_t);
  const auto s = static_cast<cudaStream_t>(stream);
  const unsigned grid = static_cast<unsigned>(B * T_len);
  const auto* tab = static_cast<const T*>(tables);
  const auto* cnd = static_cast<const T*>(cond);
  auto* o = static_cast<T*>(out);
  if (D % VEC == 0 && aligned16(tables) && aligned16(cond) && aligned16(out)) {
    const int64_t n_vec = D / VEC;
    const int threads = n_vec >= 128 ? 128 : (n_vec >= 64 ? 64 : 32);
    embed_tokens_kernel<T, VEC><<<grid, threads, smem, s>>>(tokens, tab, cnd, o, K, T_len, V1, D,
                                                            error_flag);
  } else {
    const int threads = D >= 256 ? 256 : 128;
    embed_tokens_scalar_kernel<T><<<grid, threads, smem, s>>>(tokens, tab, cnd, o, K, T_len, V1,
                                                              D, error_flag);
  }
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int embed_tokens_cuda_launch(DType dtype, const int64_t* tokens, const void* tables,
                             const void* cond, void* out, int64_t B, int64_t K, int64_t T_len,
                             int64_t V1, int64_t D, int* error_flag, void* stream) {
  switch (dtype) {
    case DType::kFloat32:
      return launch<float>(tokens, tables, cond, out, B, K, T_len, V1, D, error_flag, stream);
    case DType::kFloat16:
      return launch<__half>(tokens, tables, cond, out, B, K, T_len, V1, D, error_flag, stream);
    case DType::kBFloat16:
      return launch<__nv_bfloat16>(tokens, tables, cond, out, B, K, T_len, V1, D, error_flag,
                                   stream);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

int stream_is_capturing(void* stream, bool* capturing) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  const cudaError_t err = cudaStreamIsCapturing(static_cast<cudaStream_t>(stream), &status);
  *capturing = status != cudaStreamCaptureStatusNone;
  return static_cast<int>(err);
}

const char* cuda_error_string(int code) { return cudaGetErrorString(static_cast<cudaError_t>(code)); }

}  // namespace drumgrid
