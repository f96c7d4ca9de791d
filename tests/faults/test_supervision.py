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
    log = (stack.home / "logs" / f"{part}.log").read_text()
    assert f"supervisor: {part} died (signal SIGKILL)" in log

    faults.wait_healthy()
    put = api.put(f"/users/{alice.name}/files/after-{part}.txt", content=b"still here", headers=alice.auth)
    assert put.status_code == 201, put.text
    got = api.get(f"/users/{alice.name}/files/after-{part}.txt", headers=alice.auth)
    assert (got.status_code, got.content) == (200, b"still here")


def test_a_part_stopped_on_purpose_stays_stopped(stack: StackInfo, faults: Faults) -> None:
    faults.stop("broker")
    time.sleep(2)  # four supervisor rounds
    assert not stack.is_running("broker")
    assert (stack.run_dir / "broker.state").read_text().startswith("held")
    faults.start("broker")
    assert stack.is_running("broker")
