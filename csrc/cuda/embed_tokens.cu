// embed_tokens, CUDA: one block per frame row accumulates the K table rows in fp32.
// Torch-free on purpose (raw pointers, a stream handle) so it compiles with nvcc alone.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cstdint>

#include "cuda/kernels.h"

namespace drumgrid {
namespace {

template <typename T> __device__ __forceinline__ float to_float(T x) { return static_cast<float>(x); }
template <> __device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
template <> __device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T from_float(float x) { return static_cast<T>(x); }
template <> __device__ __forceinline__ __half from_float(float x) { return __float2half(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float(float x) { return __float2bfloat16(x); }

template <typename T>
__global__ void embed_tokens_kernel(const int64_t* __restrict__ tokens, const T* __restrict__ tables,
                                    const T* __restrict__ cond, T* __restrict__ out, int64_t K,
                                    int64_t T_len, int64_t V1, int64_t D) {
  const int64_t row = blockIdx.x;  // b * T + t
  const int64_t b = row / T_len, t = row % T_len;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    float acc = to_float(cond[row * D + d]);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t id = tokens[(b * K + k) * T_len + t];  // validated on the host
      acc += to_float(tables[(k * V1 + id) * D + d]);
    }
    out[row * D + d] = from_float<T>(acc);
  }
}

template <typename T>
int launch(const int64_t* tokens, const void* tables, const void* cond, void* out, int64_t B,
           int64_t K, int64_t T_len, int64_t V1, int64_t D, void* stream) {
  if (B * T_len == 0) return 0;
  const int threads = D >= 256 ? 256 : 128;
  embed_tokens_kernel<T><<<static_cast<unsigned>(B * T_len), threads, 0,
                           static_cast<cudaStream_t>(stream)>>>(
      tokens, static_cast<const T*>(tables), static_cast<const T*>(cond), static_cast<T*>(out), K,
      T_len, V1, D);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace

int embed_tokens_cuda_launch(DType dtype, const int64_t* tokens, const void* tables,
                             const void* cond, void* out, int64_t B, int64_t K, int64_t T_len,
                             int64_t V1, int64_t D, void* stream) {
  switch (dtype) {
    case DType::kFloat32: return launch<float>(tokens, tables, cond, out, B, K, T_len, V1, D, stream);
    case DType::kFloat16: return launch<__half>(tokens, tables, cond, out, B, K, T_len, V1, D, stream);
    case DType::kBFloat16:
      return launch<__nv_bfloat16>(tokens, tables, cond, out, B, K, T_len, V1, D, stream);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

const char* cuda_error_string(int code) { return cudaGetErrorString(static_cast<cudaError_t>(code)); }

}  // namespace drumgrid
