"""Fault tests stop, start and kill parts of the session's shared stack. They run after every
other test (see the hook below), and each leaves the stack fully up again, whatever happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.stack.info import StackInfo
from tests.support.faults import Faults

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the fault tests last, so that no other test meets a part that is down or restarting."""
    items.sort(key=lambda item: Path(str(item.path)).resolve().is_relative_to(HERE))  # stable: order kept otherwise


@pytest.fixture
def faults(stack: StackInfo) -> Iterator[Faults]:
    helper = Faults(stack)
    helper.wait_healthy()
    try:
        yield helper
    finally:
        helper.restore()
