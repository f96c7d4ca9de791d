"""Settings of the test stack (scripts.stack.throwaway_stack starts it; StackInfo reads it)."""

from __future__ import annotations

import os
import time

from scripts.stack.config import REPLICA_SETTINGS

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
    # Every test registers and logs in from 127.0.0.1 through nginx (the fuzzer with wrong
    # passwords too): that address skips the per-address limits, which tests/e2e/test_abuse.py
    # meets from other loopback addresses (127.0.0.N).
    "THROTTLE_EXEMPT_ADDRESSES": '["127.0.0.1"]',
    # Lower ceilings than the defaults (100, 50, 20, 50), so that meeting them costs fewer argon2
    # hashes (~0.1 s each here).
    "LOGIN_USER_FAILURES_PER_HOUR": "20",
    "LOGIN_ADDRESS_FAILURES": "20",
    "ADDRESS_REGISTRATIONS_PER_HOUR": "5",
    "MAX_LIVE_TOKENS_PER_USER": "10",
    # nginx's limits on password requests would refuse the suite's own registrations and logins
    # (all from 127.0.0.1, hundreds a minute at times): far above them here, and met in
    # tests/e2e/test_abuse.py through a second nginx with low limits.
    "LIFTBIT_PASSWORD_RATE_PER_ADDRESS": "10000r/s",
    "LIFTBIT_PASSWORD_BURST_PER_ADDRESS": "10000",
    "LIFTBIT_PASSWORD_RATE_TOTAL": "10000r/s",
    "LIFTBIT_PASSWORD_BURST_TOTAL": "10000",
}

# LIFTBIT_TEST_REPLICAS=2 make test: the whole suite against two copies each of files_ms,
# storage_ms and metadata_ms (tests/e2e/test_replicas.py always starts such a stack of its own).
TEST_REPLICAS = os.environ.get("LIFTBIT_TEST_REPLICAS", "1")
TEST_STACK_SETTINGS |= dict.fromkeys(REPLICA_SETTINGS.values(), TEST_REPLICAS)


def after_revocation() -> None:
    """Wait out the other copies' token caches before asserting a revoked token is refused: the
    copy of files_ms that revoked it refuses it at once, the others within TOKEN_CACHE_SECONDS
    (README, "Security"). With one copy, the default, there is nothing to wait for."""
    if TEST_REPLICAS != "1":
        time.sleep(float(TEST_STACK_SETTINGS["TOKEN_CACHE_SECONDS"]) + 0.2)
