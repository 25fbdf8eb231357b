"""drumgrid's native ops. Importing this package loads `drumgrid._C` (whose static
initialisers register the TORCH_LIBRARY schemas and the CPU/CUDA kernels) and then the
Python halves: fake kernels for export/compile, autograd, and typed wrappers."""

import torch  # noqa: F401  (the native module links against torch's libraries)

from drumgrid import _C
from drumgrid.server.ops.embed import embed_tokens
from drumgrid.server.ops.reference import embed_tokens_reference, sample_tokens_reference
from drumgrid.server.ops.sampling import sample_tokens

WITH_CUDA: bool = bool(_C.with_cuda)

__all__ = [
    "WITH_CUDA",
    "embed_tokens",
    "embed_tokens_reference",
    "sample_tokens",
    "sample_tokens_reference",
]
