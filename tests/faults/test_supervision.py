"""A part that dies is brought back by the stack's supervisor, without a command: kill -9 of each
part, then the same part answers again within 10 s, `status` and the part's log say so, and the
whole platform works again."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from scripts.stack.config import PART_NAMES
from scripts.stack.info import StackInfo, process_alive, run_launcher
from tests.support.faults import Faults
from tests.support.users import User

BACK_WITHIN_SECONDS = 10.0
RECOVERY_SECONDS = 30.0


def wait_until_back(stack: StackInfo, part: str, old_pid: int) -> float:
    """Seconds until the part runs under a new PID and the supervisor found it ready."""
    started = time.monotonic()
    while time.monotonic() - started < BACK_WITHIN_SECONDS * 3:
        pid = stack.pid(part)
        state = (stack.run_dir / f"{part}.state").read_text()
        if pid not in (None, old_pid) and process_alive(pid) and state.startswith("ready"):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{part} not back within {BACK_WITHIN_SECONDS * 3:.0f} s: {state}")


@pytest.mark.parametrize("part", PART_NAMES)
def test_a_killed_part_comes_back_by_itself(
    stack: StackInfo, faults: Faults, api: httpx.Client, alice: User, part: str
) -> None:
    restarts_before = stack.restarts(part).count
    old_pid = stack.pid(part)
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)

    seconds = wait_until_back(stack, part, old_pid)
    assert seconds < BACK_WITHIN_SECONDS, f"{part} took {seconds:.1f} s to come back"
    restarts = stack.restarts(part)
    assert restarts.count == restarts_before + 1
    assert restarts.last_reason == "died (signal SIGKILL)"
    status = run_launcher("status", home=stack.home).stdout
    [line] = [line for line in status.splitlines() if line.strip().startswith(f"{part} ")]
    assert f"restarted {restarts.count}×" in line and "SIGKILL" in line, status
    log = (stack.home / "logs" / f"{part}.log").read_text(errors="replace")  # access logs hold raw bytes
    assert f"supervisor: {part} died (signal SIGKILL)" in log

    faults.wait_healthy()
    assert_round_trip_works(api, alice, f"after-{part}.txt")


def assert_round_trip_works(api: httpx.Client, user: User, name: str) -> None:
    """An upload and its download succeed again within RECOVERY_SECONDS of a green /health (a
    restarted S3 server can answer its first writes slowly while its volumes load)."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        put = api.put(f"/users/{user.name}/files/{name}", content=b"still here", headers=user.auth)
        got = api.get(f"/users/{user.name}/files/{name}", headers=user.auth) if put.status_code < 300 else None
        if got is not None and (got.status_code, got.content) == (200, b"still here"):
            return
        assert put.status_code in (201, 200, 503), put.text  # nothing but a clean "not yet"
        assert time.monotonic() < deadline, f"no working round trip: {put.status_code} {put.text}"
        time.sleep(0.5)


def test_a_part_stopped_on_purpose_stays_stopped(stack: StackInfo, faults: Faults) -> None:
    faults.stop("broker")
    time.sleep(2)  # four supervisor rounds
    assert not stack.is_running("broker")
    assert (stack.run_dir / "broker.state").read_text().startswith("held")
    faults.start("broker")
    assert stack.is_running("broker")
