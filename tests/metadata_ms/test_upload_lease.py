"""The upload lease on real Postgres, in a database of its own: one writer at a time, renewed by
its holder, released, lapsing on the database's clock; migration 0006 both ways."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy.ext.asyncio import async_sessionmaker

from liftbit_common.contracts import NewUpload, UploadLease
from liftbit_common.db import create_engine, upgrade_database
from liftbit_common.errors import Conflict, ErrorCode, NotFound
from metadata_ms.app import MIGRATIONS, VERSION_TABLE
from metadata_ms.service.uploads import UploadRegistry
from tests.support.asyncio_thread import run_coroutine


def new_upload() -> NewUpload:
    return NewUpload(
        id=uuid.uuid4(),
        path="big.bin",
        content_type="application/octet-stream",
        length=10,
        part_size=8 * 1024 * 1024,
        object_key=uuid.uuid4().hex,
        s3_upload_id="s3-upload",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


async def outcome(registry: UploadRegistry, owner: str, upload_id: uuid.UUID, lease: UploadLease) -> str:
    try:
        await registry.lease(owner, upload_id, lease)
    except Conflict as exc:
        return "busy" if exc.code == ErrorCode.UPLOAD_BUSY else f"conflict {exc.code}"
    except NotFound:
        return "not found"
    return "held"


async def lease_lives(url: str) -> list[str]:
    engine = create_engine(url)
    registry = UploadRegistry(async_sessionmaker(engine, expire_on_commit=False), max_unfinished_per_user=5)
    first = UploadLease(writer=uuid.uuid4(), seconds=30)
    second = UploadLease(writer=uuid.uuid4(), seconds=30)
    try:
        upload = await registry.create("alice", new_upload())
        steps = [
            await outcome(registry, "alice", upload.id, first),
            await outcome(registry, "alice", upload.id, second),  # the first still writes
            await outcome(registry, "alice", upload.id, first),  # its renewal
            await outcome(registry, "bob", upload.id, second),  # not bob's upload
        ]
        await registry.release("alice", upload.id, second.writer)  # not the holder: nothing changes
        steps.append(await outcome(registry, "alice", upload.id, second))
        await registry.release("alice", upload.id, first.writer)
        steps.append(await outcome(registry, "alice", upload.id, second))
        short = UploadLease(writer=second.writer, seconds=0.3)  # renewed shorter, then lapses
        steps.append(await outcome(registry, "alice", upload.id, short))
        steps.append(await outcome(registry, "alice", upload.id, first))
        await asyncio.sleep(0.5)
        steps.append(await outcome(registry, "alice", upload.id, first))
        await registry.remove("alice", upload.id)
        await registry.release("alice", upload.id, first.writer)  # a finished upload: nothing to do
        steps.append(await outcome(registry, "alice", upload.id, first))
        return steps
    finally:
        await engine.dispose()


def test_one_writer_at_a_time_renewed_released_and_lapsing(database_url: str) -> None:
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "head")
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute("INSERT INTO users (username, password_hash, quota_bytes) VALUES ('alice', 'x', 0), ('bob', 'x', 0)")
    assert run_coroutine(lease_lives(database_url)) == [
        "held",
        "busy",
        "held",
        "not found",
        "busy",
        "held",
        "held",
        "busy",
        "held",
        "not found",
    ]


def uploads_columns(url: str) -> set[str]:
    query = "SELECT column_name FROM information_schema.columns WHERE table_name = 'uploads'"
    with psycopg.connect(url) as db:
        return {row[0] for row in db.execute(query)}


def test_migration_0006_goes_down_and_up_again(database_url: str) -> None:
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "head")
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "0005", down=True)
    columns = uploads_columns(database_url)
    assert "offset" in columns and not {"writer", "writer_until"} & columns
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "head")
    assert {"writer", "writer_until"} <= uploads_columns(database_url)
