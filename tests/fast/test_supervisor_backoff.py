"""The supervisor's restart policy, as a pure function."""

from __future__ import annotations

from scripts.stack.supervisor import Backoff


def test_the_first_restart_is_immediate_then_the_wait_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=60.0)
    assert [backoff.delay(n) for n in range(1, 10)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]
