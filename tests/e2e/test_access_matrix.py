"""Every endpoint × {owner, grantee, stranger, anonymous} through nginx: tests/support/access.py's
table, end to end (tests/fast/test_access_rules.py checks the same table in-process)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.access import MATRIX, MATRIX_IDS, ROLES, AccessWorld, Expected, build_world, check_access
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def world(stack: Stack) -> Iterator[AccessWorld]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield build_world(client)


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=MATRIX_IDS)
@pytest.mark.parametrize("role", ROLES)
def test_access(
    api: httpx.Client,
    world: AccessWorld,
    role: str,
    method: str,
    path: str,
    body: bytes | None,
    expected: Expected,
) -> None:
    check_access(api, world, role, method, path, body, expected)
