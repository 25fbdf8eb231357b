// Host-callable launchers of the torch-free CUDA kernels. They return a cudaError_t as int.
#pragma once
#include <cstdint>

namespace drumgrid {

enum class DType : int { kFloat32 = 0, kFloat16 = 1, kBFloat16 = 2 };

// out[b, t] = cond[b, t] + sum_k tables[k, tokens[b, k, t]]. An id outside [0, V1) sets
// *error_flag (device memory) to 1 and reads the MASK row (V1 - 1) instead: never a wild read.
int embed_tokens_cuda_launch(DType dtype, const int64_t* tokens, const void* tables,
                             const void* cond, void* out, int64_t B, int64_t K, int64_t T_len,
                             int64_t V1, int64_t D, int* error_flag, void* stream);

struct SampleArgs {
  double temperature;  // 0 = argmax
  int64_t top_k;       // active when 0 < top_k < V
  double top_p;        // active when < 1
  uint64_t seed, offset;
};

// One block per row of `rows` rows of V logits (contiguous); the rules are those at the top of
// csrc/sample_tokens.cpp. A non-finite logit sets *error_flag to 1 (that row gets token -1).
int sample_tokens_cuda_launch(DType dtype, const void* logits, int64_t rows, int64_t V,
                              const SampleArgs& args, int64_t* tokens, float* probs,
                              int* error_flag, void* stream);

// Whether work queued on `stream` is being captured into a CUDA graph (then the host must not
// synchronise to read error flags).
int stream_is_capturing(void* stream, bool* capturing);

const char* cuda_error_string(int code);

}  // namespace drumgrid
