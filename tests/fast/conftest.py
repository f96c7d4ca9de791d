"""The in-process tier (`make test-fast`): files_ms's routes and domain services around in-memory
fakes (tests/support/in_process.py); no server, no stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.in_process import Fakes, in_process_api

FAST_TIER = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tier's promise, kept by construction: nothing here may pull in the session stack."""
    for item in items:
        if FAST_TIER in Path(item.path).parents and "stack" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid} needs the stack fixture; it belongs to the full tier")


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def api(fakes: Fakes) -> Iterator[TestClient]:
    """Overrides tests/conftest.py's ``api`` (the stack's nginx), so its ``alice`` and ``bob``
    fixtures register in this process instead."""
    with in_process_api(fakes) as client:
        yield client
