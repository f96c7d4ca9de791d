"""With a server name configured, nginx answers only for it: the launcher's own nginx part (the
same template and rendering as the stack's) in front of the session stack's files_ms, with
LIFTBIT_SERVER_NAME=files.example."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.stack.config import StackConfig, pick_free_base
from scripts.stack.info import StackInfo
from scripts.stack.parts import nginx
from scripts.stack.process import base_env, can_connect
from tests.support.http import error_of


@pytest.fixture
def named_front(stack: StackInfo, tmp_path: Path) -> Iterator[str]:
    config = StackConfig(
        home=tmp_path,
        ports={"PORT": pick_free_base(), "FILES_PORT": int(stack.env["FILES_PORT"])},
        secrets={},
        bind_address="127.0.0.1",
        server_names=("files.example",),
    )
    for folder in (config.logs, config.run):
        folder.mkdir(parents=True)
    tmp_path.chmod(0o755)  # nginx's workers (nobody) reach their temp folders through it
    nginx.prepare(config)
    process = subprocess.Popen(nginx.command(config), env=base_env(), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not can_connect(config.ports["PORT"]):
            assert process.poll() is None and time.monotonic() < deadline, (config.logs / "nginx.log").read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{config.ports['PORT']}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_only_the_configured_host_is_answered(named_front: str) -> None:
    with httpx.Client(base_url=named_front, timeout=10) as client:
        served = client.get("/health", headers={"Host": "FILES.example"})
        assert served.status_code in (200, 503), served.text  # files_ms answered
        assert "checks" in served.json()
        for host in ("evil.example", "127.0.0.1", "files.example.evil"):
            refused = client.get("/health", headers={"Host": host})
            assert refused.status_code == 421, (host, refused.text)
            assert error_of(refused)[0] == "misdirected_request"
