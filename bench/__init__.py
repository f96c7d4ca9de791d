"""Benchmarks, run as modules from the repository root: `python -m bench.transfer`, `bench.analytics`,
`bench.load` (`make bench`, `make bench-analytics`, `make bench-load`). bench/harness.py holds what they
share; scripts/stack/invariants.py is also used by the fault tests."""
