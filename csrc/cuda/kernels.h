// Host-callable launchers of the torch-free CUDA kernels. They return a cudaError_t as int.
#pragma once
#include <cstdint>

namespace drumgrid {

enum class DType : int { kFloat32 = 0, kFloat16 = 1, kBFloat16 = 2 };

int embed_tokens_cuda_launch(DType dtype, const int64_t* tokens, const void* tables,
                             const void* cond, void* out, int64_t B, int64_t K, int64_t T_len,
                             int64_t V1, int64_t D, void* stream);

const char* cuda_error_string(int code);

}  // namespace drumgrid
