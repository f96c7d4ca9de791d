"""Processes of the stack: how a part is described, started, checked and stopped, by PID.

Own code rather than a process library: a part is ready when a protocol-level probe succeeds (a
SQL connection, an S3 write, an HTTP answer), which mirakuru's TCP/HTTP executors do not express,
and what remains is a poll loop of a few lines."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts.stack.config import ROOT, VENV_BIN, StackConfig
from scripts.stack.info import is_running, process_alive, read_pid


def can_connect(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own loopback URL)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def http_body(url: str, timeout: float = 5.0) -> tuple[int | None, str]:
    """Status and body of a GET (the body of an error answer too); None and the reason if none came."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own loopback URL)
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        return None, str(exc)


def _nothing(config: StackConfig) -> None:
    return None


def _no_env(config: StackConfig) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Part:
    name: str
    command: Callable[[StackConfig], list[str]]
    ready: Callable[[StackConfig], bool]
    env: Callable[[StackConfig], dict[str, str]] = _no_env
    prepare: Callable[[StackConfig], None] = _nothing
    after_start: Callable[[StackConfig], None] = _nothing
    stop_signal: signal.Signals = signal.SIGTERM
    run_as_postgres: bool = False
    start_timeout: float = 60.0
    needs: tuple[str, ...] = ()  # parts that must be ready before this one starts


def base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "JAVA_HOME", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def pid_file(config: StackConfig, part: Part) -> Path:
    return config.run / f"{part.name}.pid"


def launch(config: StackConfig, part: Part) -> subprocess.Popen[bytes]:
    """Start the part's process in a session of its own (so its children can be stopped with it),
    its output appended to logs/<part>.log, its PID in run/<part>.pid."""
    part.prepare(config)
    as_postgres = part.run_as_postgres and os.geteuid() == 0
    with (config.logs / f"{part.name}.log").open("ab") as log:
        process = subprocess.Popen(
            part.command(config),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=base_env() | part.env(config),
            cwd=ROOT,
            start_new_session=True,
            user="postgres" if as_postgres else None,
            group="postgres" if as_postgres else None,
            extra_groups=[] if as_postgres else None,
        )
    pid_file(config, part).write_text(f"{process.pid}\n")
    return process


def check_started(config: StackConfig, part: Part, process: subprocess.Popen[bytes], since: float) -> str | None:
    """One look at a part that is starting: "" once it is ready, None while it may still become
    ready, else why it will not (it exited, or its start timed out)."""
    if process.poll() is not None:
        return f"exited with {describe_exit(process.returncode)} while starting"
    if part.ready(config):
        part.after_start(config)
        return ""
    if time.monotonic() - since > part.start_timeout:
        return f"not ready after {part.start_timeout:.0f} s"
    return None


def wait_ready(config: StackConfig, part: Part, process: subprocess.Popen[bytes]) -> str | None:
    """None once the part is ready; else why not (for parts started outside the supervisor)."""
    since = time.monotonic()
    while (problem := check_started(config, part, process, since)) is None:
        time.sleep(0.2)
    return problem or None


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        return f"signal {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def log_tail(config: StackConfig, part: Part, lines: int = 25) -> str:
    path = config.logs / f"{part.name}.log"
    tail = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
    return "\n  ".join(tail)


def kill_group_leftovers(pid: int) -> None:
    """After a part's main process died, its children (Spark's JVM, nginx's workers, Postgres's
    backends) must not hold its ports or files when it starts again."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def stop_part(config: StackConfig, part: Part, timeout: float = 30.0) -> bool:
    """Stop the part by its PID (and its process group); True if it was running."""
    path = pid_file(config, part)
    pid = read_pid(path)
    if pid is None or not is_running(path):
        path.unlink(missing_ok=True)
        return False
    # Postgres is stopped through its postmaster only; the others with their children (Spark's JVM).
    signal_target = os.kill if part.run_as_postgres else os.killpg
    with contextlib.suppress(ProcessLookupError):
        signal_target(pid, part.stop_signal)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process_alive(pid):
        time.sleep(0.1)
    kill_group_leftovers(pid)
    path.unlink(missing_ok=True)
    return True
