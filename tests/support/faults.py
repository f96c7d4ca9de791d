"""Stopping, starting and killing parts of the test stack, and waiting for it to be whole again."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import httpx

from scripts.stack.config import PART_NAMES
from scripts.stack.info import StackInfo, process_alive
from scripts.stack.invariants import Endpoints

ALL_PARTS = PART_NAMES
HEALTHY_WITHIN_SECONDS = 90.0


@dataclass(frozen=True)
class Faults:
    stack: StackInfo

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints.from_env(self.stack.env)

    def pid(self, part: str) -> int | None:
        return self.stack.pid(part)

    def pids(self) -> dict[str, int | None]:
        return {part: self.stack.pid(part) for part in ALL_PARTS}

    def stop(self, part: str) -> None:
        self.stack.launcher("stop", part)

    def start(self, *parts: str) -> None:
        self.stack.launcher("start", *parts)

    def kill9(self, part: str) -> None:
        """SIGKILL the part's process (by the PID the launcher recorded): no chance to clean up."""
        pid = self.pid(part)
        assert pid is not None, f"{part} has no PID file"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process_alive(pid):
            time.sleep(0.05)
        assert not process_alive(pid), f"{part} (pid {pid}) survived SIGKILL"

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.stack.url}/health", timeout=15)

    def wait_healthy(self, timeout: float = HEALTHY_WITHIN_SECONDS) -> float:
        """Seconds until /health is "ok" (200 "degraded" is not enough: analytics must run too);
        fails the test if it is not within ``timeout``."""
        started = time.monotonic()
        last = "no answer"
        while time.monotonic() - started < timeout:
            try:
                response = self.health()
                if response.status_code == 200 and response.json()["status"] == "ok":
                    return time.monotonic() - started
                last = f"{response.status_code} {response.text[:400]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise AssertionError(f"/health not green {timeout:.0f} s after the restart: {last}")

    def restore(self) -> None:
        """Start whatever is not running, then wait for green health."""
        self.start(*ALL_PARTS)
        self.wait_healthy()
