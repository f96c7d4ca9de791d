"""Settings of the test stack (scripts.stack.throwaway_stack starts it; StackInfo reads it)."""

from __future__ import annotations

# Quick analytics triggers, no background sweeps (tests run them), short graces so that the
# sweeper's effects can be seen.
TEST_STACK_SETTINGS = {
    "ANALYTICS_TRIGGER": "1 second",
    "RECONCILE_INTERVAL_SECONDS": "0",
    "ORPHAN_GRACE_SECONDS": "2",
    "MULTIPART_GRACE_SECONDS": "2",
    "REPLACED_OBJECT_RETENTION_SECONDS": "5",
    "TOKEN_CACHE_SECONDS": "2",
    "DEFAULT_QUOTA_BYTES": str(4 * 1024**3),
    "MAX_FILE_SIZE_BYTES": str(3 * 1024**3),
    "LOG_LEVEL": "INFO",
    # Every test logs in from 127.0.0.1 through nginx (the fuzzer with wrong passwords too): the
    # per-address limit is tested on LoginThrottle itself (tests/files_ms/test_login_throttle.py).
    "LOGIN_RATE_PER_ADDRESS": "100000/minute",
}
