"""A running stack as its users see it: the endpoints in ``$LIFTBIT_HOME/stack.env`` and the PID
files under ``run/``. The launcher writes them; the tests, the benchmarks and operators read them
through StackInfo, the one reader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parents[2]
# Variables that would point the launcher at another stack's folder or ports.
LAUNCHER_VARIABLES = ("PORT", "LIFTBIT_PORT_BASE", "LIFTBIT_HOME")


def run_launcher(
    *args: str, home: Path, settings: Mapping[str, str] | None = None, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    """``python -m scripts.stack ARGS --home HOME``, with ``settings`` in the services' environment
    and nothing of the caller's own stack (PORT, LIFTBIT_HOME…) leaking in."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "scripts.stack", *args, "--home", str(home)],
        env=env | dict(settings or {}),
        cwd=ROOT,
        capture_output=capture,
        text=True,
        check=False,
    )


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (python-dotenv's reading, which handles quotes and comments)."""
    if not path.exists():
        return {}
    return {name: value for name, value in dotenv_values(path).items() if value is not None}


def _live_processes() -> Iterator[tuple[int, int, int]]:
    """(PID, parent PID, session) of every process, from /proc/*/stat."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                yield int(entry.name), int(fields[1]), int(fields[3])
            except (OSError, IndexError, ValueError):
                continue


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a killed child not yet reaped)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def is_running(pid_file: Path) -> bool:
    pid = read_pid(pid_file)
    return pid is not None and process_alive(pid)


@dataclass(frozen=True)
class StackInfo:
    home: Path
    env: dict[str, str]

    @classmethod
    def read(cls, home: Path) -> StackInfo:
        home = home.resolve()
        env = read_env_file(home / "stack.env")
        if not env:
            raise FileNotFoundError(f"no stack.env in {home}: start the stack with `make up` first")
        return cls(home=home, env=env)

    @property
    def url(self) -> str:
        return self.env["LIFTBIT_URL"]

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    def pid_file(self, part: str) -> Path:
        return self.run_dir / f"{part}.pid"

    def pid(self, part: str) -> int | None:
        """The PID the launcher recorded for ``part``, if any."""
        return read_pid(self.pid_file(part))

    def pids(self, parts: Iterable[str] | None = None) -> dict[str, int]:
        """PIDs of ``parts`` (default: every part with a PID file), leaving out parts without one."""
        files = [self.pid_file(p) for p in parts] if parts is not None else sorted(self.run_dir.glob("*.pid"))
        found = {pid_file.stem: read_pid(pid_file) for pid_file in files}
        return {part: pid for part, pid in found.items() if pid is not None}

    def is_running(self, part: str) -> bool:
        return is_running(self.pid_file(part))

    def children(self, part: str) -> list[int]:
        """The live processes ``part``'s own process started (uvicorn's workers, nginx's…)."""
        leader = self.pid(part)
        return [pid for pid, parent, _ in _live_processes() if leader is not None and parent == leader]

    def processes(self) -> set[int]:
        """Every live process of the stack: the supervisor and each part with all its children
        (each part runs in a session of its own, so Spark's JVM and nginx's workers are in it)."""
        leaders = set(self.pids().values())
        found = {pid for pid in leaders if process_alive(pid)}
        found |= {pid for pid, _, session in _live_processes() if session in leaders and process_alive(pid)}
        return found

    def restarts(self, part: str) -> PartRestarts:
        """How often the supervisor restarted ``part``, and why the last time."""
        return PartRestarts.read(self.run_dir / f"{part}.restarts")

    def internal_headers(self) -> dict[str, str]:
        return {"X-Internal-Token": self.env["INTERNAL_TOKEN"]}

    def launcher(self, *args: str) -> None:
        """Run a launcher command on this stack (`stop s3`, `start s3`); fails loudly."""
        done = run_launcher(*args, home=self.home)
        if done.returncode != 0:
            raise RuntimeError(f"launcher {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@dataclass(frozen=True)
class PartRestarts:
    """The supervisor's record of a part's restarts (run/<part>.restarts, JSON)."""

    count: int = 0
    last_at: str | None = None
    last_reason: str | None = None

    @classmethod
    def read(cls, path: Path) -> PartRestarts:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return cls()

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({"count": self.count, "last_at": self.last_at, "last_reason": self.last_reason}))
