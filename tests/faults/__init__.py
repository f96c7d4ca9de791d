"""Fault tests. They check the invariants of scripts/stack/invariants.py (shared with the load benchmark,
bench/load.py), imported as ``scripts.stack.invariants``: pytest runs with the repository root on sys.path."""
