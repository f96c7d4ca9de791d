"""The login throttle's backoff (the counters themselves live in Postgres: tests/e2e/test_abuse.py)."""

from __future__ import annotations

from metadata_ms.service.throttle import ThrottlePolicy


def test_a_pair_backs_off_exponentially_after_its_free_failures_up_to_the_cap() -> None:
    policy = ThrottlePolicy(free_pair_failures=5, max_backoff_seconds=900)
    assert [policy.pair_backoff_seconds(n) for n in range(1, 12)] == [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 64]
    assert policy.pair_backoff_seconds(15) == 900
    assert policy.pair_backoff_seconds(10_000) == 900  # no overflow however long the guessing goes
