"""The throw-away stack every integration and end-to-end test talks to.

One stack per test session, started on free ports in a temporary folder by scripts/stack.py (the
same launcher as `make up`), with real Postgres, SeaweedFS S3, the Tansu broker, Spark, the three
services and nginx; stopped at the end of the session, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.stack import read_env_file
from tests.support.events import EventLog
from tests.support.stack import STACK_SCRIPT, TEST_STACK_SETTINGS, Stack
from tests.support.users import User, register, unique_name


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    given = os.environ.get("LIFTBIT_TEST_HOME")
    home = Path(given) if given else Path(tempfile.mkdtemp(prefix="liftbit-test-"))
    home.chmod(0o755)
    command = [sys.executable, str(STACK_SCRIPT), "up", "--home", str(home), "--port-base", "auto"]
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "LIFTBIT_PORT_BASE")} | TEST_STACK_SETTINGS
    try:
        subprocess.run(command, check=True, env=env)
        yield Stack(home=home, env=read_env_file(home / "stack.env"))
    finally:
        subprocess.run([sys.executable, str(STACK_SCRIPT), "down", "--home", str(home)], check=False)
        if not given:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        yield client


@pytest.fixture
def alice(api: httpx.Client) -> User:
    return register(api, unique_name("alice"))


@pytest.fixture
def bob(api: httpx.Client) -> User:
    return register(api, unique_name("bob"))


@pytest.fixture(scope="session")
def events(stack: Stack) -> EventLog:
    return EventLog(stack.env["KAFKA_BOOTSTRAP_SERVERS"], stack.env["KAFKA_TOPIC"])
