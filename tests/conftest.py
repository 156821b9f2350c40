from __future__ import annotations

import sys
from pathlib import Path

# Tests import `tests.utils` and the `benchmarks` package from the repository root.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
