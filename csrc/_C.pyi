"""Types of the native module built from csrc/ (ops.cpp's PYBIND11_MODULE): importing it
registers the TORCH_LIBRARY ops, which Python reaches through torch.ops.drumgrid."""

with_cuda: bool
