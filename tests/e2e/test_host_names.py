"""With a server name configured, nginx answers only for it: the launcher's own nginx part (the
same template and rendering as the stack's) in front of the session stack's files_ms, with
LIFTBIT_SERVER_NAME=files.example (tests/support/front_door.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.stack.info import StackInfo
from tests.support.front_door import front_door
from tests.support.http import error_of


@pytest.fixture
def named_front(stack: StackInfo, tmp_path: Path) -> Iterator[str]:
    with front_door(stack, tmp_path, server_names=("files.example",)) as url:
        yield url


def test_only_the_configured_host_is_answered(named_front: str) -> None:
    with httpx.Client(base_url=named_front, timeout=10) as client:
        served = client.get("/health", headers={"Host": "FILES.example"})
        assert served.status_code in (200, 503), served.text  # files_ms answered
        assert "checks" in served.json()
        for host in ("evil.example", "127.0.0.1", "files.example.evil"):
            refused = client.get("/health", headers={"Host": host})
            assert refused.status_code == 421, (host, refused.text)
            assert error_of(refused)[0] == "misdirected_request"
