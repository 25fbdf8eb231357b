// The drumgrid op library. Schemas live here; each kernel registers beside its source
// (csrc/<op>.cpp for CPU, csrc/cuda/cuda_ops.cpp for CUDA).
#include <pybind11/pybind11.h>
#include <torch/library.h>

TORCH_LIBRARY(drumgrid, m) {
  m.def("embed_tokens(Tensor tokens, Tensor tables, Tensor cond) -> Tensor");
  m.def(
      "sample_tokens(Tensor logits, float temperature, int top_k, float top_p, int seed, "
      "int offset) -> (Tensor, Tensor)");
}

// Importing drumgrid._C runs the static registrations; the Python module only reports the build.
PYBIND11_MODULE(_C, m) {
#ifdef DRUMGRID_WITH_CUDA
  m.attr("with_cuda") = true;
#else
  m.attr("with_cuda") = false;
#endif
}
