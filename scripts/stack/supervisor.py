"""Supervision: one process per stack starts every part in order and brings back any part that dies.

The supervisor is the only starter of parts, so two starts of one part cannot race. It keeps its
word in run/: <part>.state (what it is doing with the part), <part>.restarts (how often it brought
the part back, and why), and honours <part>.held (a part stopped on purpose stays stopped). A part
that keeps dying is restarted with exponential backoff, and each restart is written to the part's
own log and to logs/supervisor.log.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from scripts.stack.config import ROOT, StackConfig
from scripts.stack.info import PartRestarts, is_running, read_pid
from scripts.stack.parts import PARTS
from scripts.stack.process import (
    Part,
    check_started,
    describe_exit,
    kill_group_leftovers,
    launch,
    pid_file,
    stop_part,
)

POLL_SECONDS = 0.5
# While a part starts: found ready within 50 ms of answering. The idle 0.5 s would add up to 0.5 s
# to each link of postgres/s3 → broker → services, and `make up` waits for the slowest chain.
STARTING_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Backoff:
    """How long to wait before restarting a part that died ``failures`` times in a row: the first
    restart at once (a part killed once is back within a second), then 1, 2, 4 … ``cap`` seconds.
    A part that stayed up ``stable_after`` seconds has its failures forgotten."""

    base: float = 1.0
    cap: float = 60.0
    stable_after: float = 60.0

    def delay(self, failures: int) -> float:
        if failures <= 1:
            return 0.0
        return min(self.cap, self.base * 2.0 ** (failures - 2))


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_file(config: StackConfig, name: str) -> Path:
    return config.run / f"{name}.state"


def held_file(config: StackConfig, name: str) -> Path:
    return config.run / f"{name}.held"


def write_state(config: StackConfig, name: str, state: str) -> None:
    path = state_file(config, name)
    temporary = path.with_suffix(".state.tmp")
    temporary.write_text(state + "\n")
    temporary.replace(path)


def read_state(config: StackConfig, name: str) -> str:
    try:
        return state_file(config, name).read_text().strip()
    except OSError:
        return "unknown"


class Stopping(BaseException):  # not an Exception: nothing may swallow it
    """SIGTERM or SIGINT reached the supervisor: stop every part and exit."""


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise Stopping(signal.Signals(signum).name)


@dataclass
class PartWatch:
    """What the supervisor knows of one part between polls."""

    process: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    up_since: float | None = None
    failures: int = 0
    next_start: float = 0.0
    starting_since: float | None = None  # launched, not ready yet


class Supervisor:
    def __init__(self, config: StackConfig, backoff: Backoff | None = None, parts: tuple[Part, ...] = PARTS) -> None:
        self._config = config
        self._backoff = backoff or Backoff()
        self._parts = parts
        self._watch = {part.name: PartWatch() for part in parts}

    def say(self, part: Part, message: str) -> None:
        """One line in the supervisor's log and in the part's own log."""
        line = f"{now_text()} supervisor: {part.name} {message}"
        print(line, flush=True)
        with (self._config.logs / f"{part.name}.log").open("a") as log:
            log.write(line + "\n")

    def run(self) -> None:
        signal.signal(signal.SIGTERM, _stop_on_signal)
        signal.signal(signal.SIGINT, _stop_on_signal)
        try:
            while True:
                for part in self._parts:
                    self.tend(part)
                starting = any(watch.starting_since is not None for watch in self._watch.values())
                time.sleep(STARTING_POLL_SECONDS if starting else POLL_SECONDS)
        except Stopping as reason:
            print(f"{now_text()} supervisor: {reason}, stopping every part", flush=True)
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            self.stop_all()

    def stop_all(self) -> None:
        for part in reversed(self._parts):
            if stop_part(self._config, part):
                print(f"{now_text()} supervisor: {part.name} stopped", flush=True)
            write_state(self._config, part.name, "stopped")
            watch = self._watch[part.name]
            if watch.process is not None:
                watch.process.poll()  # reap

    def tend(self, part: Part) -> None:
        """One look at a part: leave it, note that it died, or (re)start it when its time comes."""
        config, watch = self._config, self._watch[part.name]
        if watch.starting_since is not None:
            self._check_start(part, watch)
            return
        if self._alive(part, watch):
            if watch.up_since is None:  # running before this supervisor (a restarted supervisor adopts it)
                watch.pid, watch.up_since = read_pid(pid_file(config, part)), time.monotonic()
                write_state(config, part.name, "ready")
            elif watch.failures and time.monotonic() - watch.up_since > self._backoff.stable_after:
                watch.failures = 0
            return
        if held_file(config, part.name).exists():
            self._forget(watch)
            write_state(config, part.name, "held (stopped on purpose)")
            return
        if watch.up_since is not None:
            self._died(part, watch)
        if time.monotonic() < watch.next_start:
            return
        if held_file(config, part.name).exists():  # stopped on purpose since the look above
            return
        if waiting := [need for need in part.needs if not self._ready(need)]:
            state = f"waiting for {', '.join(waiting)}"
            if read_state(config, part.name) != state:
                write_state(config, part.name, state)
            return
        self._start(part, watch)

    def _ready(self, name: str) -> bool:
        watch = self._watch[name]
        return watch.up_since is not None and watch.starting_since is None

    def _alive(self, part: Part, watch: PartWatch) -> bool:
        """Our own child is asked directly (which also reaps it and keeps its exit status); a part
        adopted from an earlier supervisor by its PID file."""
        if watch.process is not None:
            return watch.process.poll() is None
        return is_running(pid_file(self._config, part))

    def _forget(self, watch: PartWatch) -> None:
        watch.process, watch.pid, watch.up_since, watch.starting_since = None, None, None, None

    def _died(self, part: Part, watch: PartWatch) -> None:
        reason = f"died ({describe_exit(watch.process.returncode)})" if watch.process else f"pid {watch.pid} is gone"
        if watch.pid is not None:
            kill_group_leftovers(watch.pid)
        self._forget(watch)
        watch.failures += 1
        delay = self._backoff.delay(watch.failures)
        watch.next_start = time.monotonic() + delay
        self._count_restart(part, reason)
        self.say(part, f"{reason}; restarting {'now' if delay == 0 else f'in {delay:.0f} s (backoff)'}")
        write_state(self._config, part.name, f"backoff {delay:.0f} s after: {reason}" if delay else "restarting")

    def _count_restart(self, part: Part, reason: str) -> None:
        path = self._config.run / f"{part.name}.restarts"
        before = PartRestarts.read(path)
        PartRestarts(count=before.count + 1, last_at=now_text(), last_reason=reason).write(path)

    def _start(self, part: Part, watch: PartWatch) -> None:
        """Launch the part and return: independent parts start side by side (Postgres beside S3,
        the four services together), and later looks see it become ready."""
        write_state(self._config, part.name, f"starting since {now_text()}")
        try:
            watch.process = launch(self._config, part)
        except Exception as exc:  # e.g. initdb failed: tell, and try again after the backoff
            self._start_failed(part, watch, f"could not start: {exc}")
            return
        watch.pid, watch.starting_since = watch.process.pid, time.monotonic()

    def _check_start(self, part: Part, watch: PartWatch) -> None:
        assert watch.process is not None
        assert watch.starting_since is not None
        problem = check_started(self._config, part, watch.process, watch.starting_since)
        if problem is None:
            return
        if problem == "":
            watch.up_since = time.monotonic()
            write_state(self._config, part.name, f"ready in {watch.up_since - watch.starting_since:.1f} s")
            watch.starting_since = None
            return
        stop_part(self._config, part)
        watch.process.poll()
        self._start_failed(part, watch, problem)

    def _start_failed(self, part: Part, watch: PartWatch, problem: str) -> None:
        self._forget(watch)
        watch.failures += 1
        delay = max(self._backoff.delay(watch.failures), 1.0)
        watch.next_start = time.monotonic() + delay
        self.say(part, f"{problem}; trying again in {delay:.0f} s")
        write_state(self._config, part.name, f"failed: {problem}; next try in {delay:.0f} s")


def start_supervisor(config: StackConfig) -> int:
    """The supervisor as a process of its own, in its own session (it outlives `make up`)."""
    with (config.logs / "supervisor.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.stack", "supervise", "--home", str(config.home)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
    (config.run / "supervisor.pid").write_text(f"{process.pid}\n")
    return process.pid
