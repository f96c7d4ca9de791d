"""Tests of metadata_ms on the test stack's Postgres, each in a database of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from scripts.stack.info import StackInfo


@pytest.fixture
def database_url(stack: StackInfo) -> Iterator[str]:
    """A database of its own on the test stack's Postgres, dropped afterwards."""
    name = f"migration_{uuid.uuid4().hex[:12]}"
    base = stack.env["DATABASE_URL"]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
