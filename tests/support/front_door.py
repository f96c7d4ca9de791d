"""A second nginx in front of the session stack's files_ms, rendered by the launcher's own nginx
part (the same templates) with settings the session stack does not use: a server name, low rate
limits."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.stack.config import PasswordLimits, StackConfig, pick_free_base
from scripts.stack.info import StackInfo
from scripts.stack.parts import nginx
from scripts.stack.process import base_env, can_connect


@contextmanager
def front_door(
    stack: StackInfo,
    folder: Path,
    *,
    server_names: tuple[str, ...] = (),
    password_limits: PasswordLimits | None = None,
) -> Iterator[str]:
    """Run such an nginx until the block ends; yields its URL."""
    settings = StackConfig(
        home=folder,
        ports={"PORT": pick_free_base(), "FILES_PORT": int(stack.env["FILES_PORT"])},
        secrets={},
        bind_address="127.0.0.1",
        server_names=server_names,
        password_limits=password_limits or PasswordLimits(),
    )
    for path in (settings.logs, settings.run):
        path.mkdir(parents=True)
    folder.chmod(0o755)  # nginx's workers (nobody) reach their temp folders through it
    nginx.prepare(settings)
    process = subprocess.Popen(nginx.command(settings), env=base_env(), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not can_connect(settings.ports["PORT"]):
            assert process.poll() is None and time.monotonic() < deadline, (settings.logs / "nginx.log").read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{settings.ports['PORT']}"
    finally:
        process.terminate()
        process.wait(timeout=10)
