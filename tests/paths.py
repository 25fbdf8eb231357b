"""Where the tests find the checkout and the read-only data beside it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
GMD_ROOT = REPO.parent / "shared" / "data" / "gmd"
