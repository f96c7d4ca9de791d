"""Fault tests. They check the invariants of bench/invariants.py (shared with the load benchmark,
bench/load.py), imported as ``bench.invariants``: pytest runs with the repository root on sys.path."""
