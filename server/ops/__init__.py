"""drumgrid's native ops: importing this package loads `drumgrid._C` and its registrations."""

import torch  # noqa: F401  (the native module links against torch's libraries)

from drumgrid import _C  # noqa: F401
