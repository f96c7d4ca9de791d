"""The launcher (stack.py), the upload script and the docs helpers. The launcher's PID and env-file
helpers also serve the tests and the benchmarks (``from scripts.stack import ...``)."""
