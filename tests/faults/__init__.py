"""Fault tests. bench/invariants.py (shared with the load benchmark, bench/load.py) is imported as
the top-level module ``invariants``, as the benchmark script itself imports it."""

import sys
from pathlib import Path

_BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if _BENCH not in sys.path:
    sys.path.append(_BENCH)
