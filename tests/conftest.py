"""The throw-away stack every integration and end-to-end test talks to.

One stack per test session, started on free ports in a temporary folder (or $LIFTBIT_TEST_HOME) by
the same launcher as `make up` (scripts.stack), with real Postgres, SeaweedFS S3, the Tansu broker,
Spark, the three services and nginx; stopped at the end of the session, whatever happened.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.stack.info import StackInfo, process_alive
from scripts.stack.throwaway import throwaway_stack
from tests.support.events import EventLog
from tests.support.stack import TEST_STACK_SETTINGS
from tests.support.users import User, register, unique_name

# The real browser's fixtures (browser, page, browser_errors) for tests anywhere.
pytest_plugins = ["tests.support.browser"]


@pytest.fixture(scope="session")
def stack() -> Iterator[StackInfo]:
    """The session's stack; on the way out, `down` must leave no process of it behind."""
    given = os.environ.get("LIFTBIT_TEST_HOME")
    # LIFTBIT_TEST_REUSE=1: a stack already running in LIFTBIT_TEST_HOME serves the run and stays up
    # (while changing code: the supervisor restarts a service whose process one kills).
    reuse = given is not None and os.environ.get("LIFTBIT_TEST_REUSE") == "1"
    with throwaway_stack(
        TEST_STACK_SETTINGS, home=Path(given) if given else None, reuse_running=reuse, show_progress=True
    ) as info:
        yield info
        processes = info.processes()
    if reuse:
        return
    survivors = sorted(pid for pid in processes if process_alive(pid))
    assert not survivors, f"processes outlived `down`: {survivors}"


@pytest.fixture
def api(stack: StackInfo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        yield client


@pytest.fixture
def alice(api: httpx.Client) -> User:
    return register(api, unique_name("alice"))


@pytest.fixture
def bob(api: httpx.Client) -> User:
    return register(api, unique_name("bob"))


@pytest.fixture(scope="session")
def events(stack: StackInfo) -> EventLog:
    return EventLog(stack.env["KAFKA_BOOTSTRAP_SERVERS"], stack.env["KAFKA_TOPIC"])
