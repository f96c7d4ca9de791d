"""A throw-away stack for tests, benchmarks and screenshots: started on free ports in a folder of
its own, stopped again on the way out whatever happens (SIGTERM included)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType

from scripts.stack.info import StackInfo, is_running, run_launcher


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def throwaway_stack(
    settings: Mapping[str, str] | None = None,
    *,
    home: Path | None = None,
    reuse_running: bool = False,
    keep_running: bool = False,
    keep_folder: bool = False,
    log: Callable[[str], None] = print,
    show_progress: bool = False,
) -> Iterator[StackInfo]:
    """Without ``home`` the stack lives in a new temporary folder, removed afterwards unless
    ``keep_folder`` (its logs) or ``keep_running``. With ``home`` and ``reuse_running``, a stack
    already running there is used as it is (``settings`` do not reach it) and left running."""
    temporary = home is None
    folder = Path(tempfile.mkdtemp(prefix="liftbit-stack-")) if home is None else home.resolve()
    if reuse_running and is_running(folder / "run" / "supervisor.pid"):
        log(f"using the stack already running in {folder} (its own settings apply)")
        yield StackInfo.read(folder)
        return
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    # A benchmark's or a test's nginx has no business on other interfaces.
    settings = {"LIFTBIT_BIND": "127.0.0.1"} | dict(settings or {})
    try:
        log(f"starting a stack in {folder} …")
        began = time.monotonic()
        # Tests and benchmarks count downloads: they start once analytics runs too.
        started = run_launcher(
            "up", "--port-base", "auto", "--wait-analytics", home=folder, settings=settings, capture=not show_progress
        )
        if started.returncode != 0:
            raise RuntimeError(f"the stack did not start:\n{started.stdout}\n{started.stderr}")
        stack = StackInfo.read(folder)
        log(f"stack up at {stack.url} in {time.monotonic() - began:.0f} s")
        yield stack
    finally:
        if keep_running:
            log(f"stack left running: python -m scripts.stack down --home {folder}")
        else:
            stopped = run_launcher("down", home=folder)
            lines = (stopped.stdout + stopped.stderr).strip().splitlines()
            log(lines[-1] if lines else f"launcher down exited {stopped.returncode}")
            if temporary and not keep_folder:
                shutil.rmtree(folder, ignore_errors=True)
            elif temporary:
                log(f"stack folder kept: {folder}")
        signal.signal(signal.SIGTERM, previous)
