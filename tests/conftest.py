"""The throw-away stack every integration and end-to-end test talks to.

One stack per test session, started on free ports in a temporary folder by scripts/stack.py (the
same launcher as `make up`), with real Postgres, SeaweedFS S3, the Tansu broker, Spark, the three
services and nginx; stopped at the end of the session, whatever happened.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from scripts.stack import read_env_file

ROOT = Path(__file__).resolve().parent.parent
STACK_SCRIPT = ROOT / "scripts" / "stack.py"

# Settings of the test stack: quick analytics triggers, no background sweeps (tests run them),
# short graces so that the sweeper's effects can be seen.
TEST_STACK_SETTINGS = {
    "ANALYTICS_TRIGGER": "1 second",
    "RECONCILE_INTERVAL_SECONDS": "0",
    "ORPHAN_GRACE_SECONDS": "2",
    "MULTIPART_GRACE_SECONDS": "2",
    "REPLACED_OBJECT_RETENTION_SECONDS": "5",
    "TOKEN_CACHE_SECONDS": "2",
    "DEFAULT_QUOTA_BYTES": str(4 * 1024**3),
    "MAX_FILE_SIZE_BYTES": str(3 * 1024**3),
    "LOG_LEVEL": "INFO",
    # Every test logs in from 127.0.0.1 through nginx (the fuzzer with wrong passwords too): the
    # per-address limit is tested on LoginThrottle itself (tests/files_ms/test_login_throttle.py).
    "LOGIN_RATE_PER_ADDRESS": "100000/minute",
}


@dataclass(frozen=True)
class Stack:
    home: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.env["LIFTBIT_URL"]

    def control(self, command: str, *parts: str) -> None:
        """Stop or start parts of the stack (`stop s3`, `start s3`)."""
        subprocess.run(
            [sys.executable, str(STACK_SCRIPT), command, *parts, "--home", str(self.home)],
            check=True,
            env=os.environ | TEST_STACK_SETTINGS,
            capture_output=True,
        )

    def internal_headers(self) -> dict[str, str]:
        return {"X-Internal-Token": self.env["INTERNAL_TOKEN"]}


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


@dataclass
class User:
    name: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def register(client: httpx.Client, name: str | None = None, password: str = "correct horse battery") -> User:
    name = name or unique_name()
    created = client.post("/users", json={"username": name, "password": password})
    assert created.status_code == 201, created.text
    login = client.post("/auth/token", data={"username": name, "password": password})
    assert login.status_code == 200, login.text
    return User(name=name, password=password, token=login.json()["access_token"])


@pytest.fixture
def alice(api: httpx.Client) -> User:
    return register(api, unique_name("alice"))


@pytest.fixture
def bob(api: httpx.Client) -> User:
    return register(api, unique_name("bob"))


class EventLog:
    """Reads topic file-events from the start, for assertions on what the platform published."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], count: int, timeout: float = 20
    ) -> list[dict[str, Any]]:
        """The first events matching ``predicate``, once ``count`` of them are there; the test
        sees fewer if they do not arrive within ``timeout``."""
        consumer = Consumer(
            {
                "bootstrap.servers": self._bootstrap,
                "group.id": f"test-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 50,
            }
        )
        try:
            metadata = consumer.list_topics(self._topic, timeout=10)
            partitions = metadata.topics[self._topic].partitions
            consumer.assign([TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in partitions])
            found: list[dict[str, Any]] = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and len(found) < count:
                for message in consumer.consume(num_messages=1000, timeout=0.2):
                    if message.error() is None:
                        event = json.loads(message.value() or b"{}")
                        key = message.key()
                        event["_key"] = key.decode() if key else None
                        if predicate(event):
                            found.append(event)
            return found
        finally:
            consumer.close()

    def of_owner(self, owner: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        return self.wait_for(lambda e: e["owner"] == owner, count, timeout)


@pytest.fixture(scope="session")
def events(stack: Stack) -> EventLog:
    return EventLog(stack.env["KAFKA_BOOTSTRAP_SERVERS"], stack.env["KAFKA_TOPIC"])
