"""Backup and restore of a whole stack, while it runs: the metadata (one pg_dump of Postgres: users,
files, versions, grants, links, the outbox and the analytics tables) and every S3 object that
metadata refers to, with a manifest of each object's size and SHA-256.

Consistency without stopping anything: the object list is read in the same Postgres snapshot that
pg_dump dumps (``pg_export_snapshot``), so the backup holds exactly the objects its metadata needs.
Objects are immutable once written (a replaced file gets a new key) and are deleted only after
``REPLACED_OBJECT_RETENTION_SECONDS`` (1 h by default) or when a trash entry is purged; an object
that vanished during the copy all the same makes the backup start again from a new snapshot.

A backup lives in a folder or under an S3 prefix (``s3://bucket/prefix``, reached with boto3's own
configuration: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL …):

    manifest.json     written last: a backup without it is incomplete
    metadata.dump     pg_dump's custom format (pg_restore reads it)
    objects/<key>     each object's bytes

Not in a backup: the event topic (a restored stack starts a new one; its consumers see events from
the restore on) and Spark's checkpoint (the restored analytics job starts on the new topic).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, cast

import boto3
import psycopg
from botocore.config import Config
from botocore.exceptions import ClientError

from scripts.stack.config import LauncherError
from scripts.stack.info import StackInfo
from scripts.stack.parts.postgres import postgres_bin

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "metadata.dump"
COPY_THREADS = 8
CHUNK = 1024 * 1024
ATTEMPTS = 3

# Every object the metadata refers to: files' current contents (trashed ones too) and versions.
REFERENCED_OBJECTS = """
SELECT object_key, size, sha256 FROM nodes WHERE object_key IS NOT NULL
UNION
SELECT object_key, size, sha256 FROM versions
"""


@dataclass(frozen=True)
class ManifestObject:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    format: int
    created_at: str
    source: str
    objects: list[ManifestObject]

    @property
    def total_bytes(self) -> int:
        return sum(item.size for item in self.objects)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw: dict[str, Any] = json.loads(text)
        if raw.get("format") != FORMAT:
            raise LauncherError(f"backup format {raw.get('format')!r}: this version reads format {FORMAT}")
        objects = [ManifestObject(**item) for item in raw["objects"]]
        return cls(format=FORMAT, created_at=raw["created_at"], source=raw["source"], objects=objects)


class Readable(Protocol):
    """All a copy needs of a stream (s3transfer's upload_fileobj, too, only reads)."""

    def read(self, size: int = -1, /) -> bytes: ...


class BackupStore(Protocol):
    """Where a backup lives: a folder or an S3 prefix."""

    def is_empty(self) -> bool: ...
    def put(self, name: str, body: Readable) -> None: ...
    @contextmanager
    def get(self, name: str) -> Iterator[Readable]: ...
    def exists(self, name: str) -> bool: ...


class FolderStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def is_empty(self) -> bool:
        return not self.root.exists() or not any(self.root.iterdir())

    def put(self, name: str, body: Readable) -> None:
        target = (self.root / name).resolve()
        if not target.is_relative_to(self.root):
            raise LauncherError(f"{name!r} would be written outside {self.root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as out:
            shutil.copyfileobj(body, out, CHUNK)
        partial.rename(target)

    @contextmanager
    def get(self, name: str) -> Iterator[Readable]:
        with (self.root / name).open("rb") as body:
            yield body

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()


class S3Store:
    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3")

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def is_empty(self) -> bool:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(""), MaxKeys=1)
        return not listed.get("KeyCount")

    def put(self, name: str, body: Readable) -> None:
        self.client.upload_fileobj(cast("IO[bytes]", body), self.bucket, self._key(name))

    @contextmanager
    def get(self, name: str) -> Iterator[Readable]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"]
        try:
            yield body
        finally:
            body.close()

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError:
            return False
        return True


def open_store(location: str) -> BackupStore:
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        return S3Store(bucket, prefix)
    return FolderStore(Path(location).resolve())


class HashingReader:
    """A file-like view of a stream that hashes and counts what passes through it."""

    def __init__(self, stream: Readable) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.sha256.update(chunk)
        self.size += len(chunk)
        return chunk


class StackObjects:
    """The stack's own bucket, as storage_ms writes it (the endpoint and keys in stack.env)."""

    def __init__(self, stack: StackInfo) -> None:
        self.bucket = stack.env["S3_BUCKET"]
        self.client = boto3.client(
            "s3",
            endpoint_url=stack.env["S3_ENDPOINT_URL"],
            aws_access_key_id=stack.env["S3_KEY_ID"],
            aws_secret_access_key=stack.env["S3_KEY_SECRET"],
            region_name="us-east-1",
            config=Config(max_pool_connections=COPY_THREADS, retries={"max_attempts": 5, "mode": "standard"}),
        )

    @contextmanager
    def read(self, key: str) -> Iterator[Readable]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield body
        finally:
            body.close()

    def write(self, key: str, body: Readable) -> None:
        self.client.upload_fileobj(cast("IO[bytes]", body), self.bucket, key)


class ObjectVanished(Exception):
    pass


def copy_object(item: ManifestObject, read: Any, write: Any) -> ManifestObject:
    """Stream one object from ``read(key)`` into ``write(key, body)``, checking it against what
    the metadata says it holds."""
    try:
        with read(item.key) as body:
            reader = HashingReader(body)
            write(item.key, reader)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise ObjectVanished(item.key) from exc
        raise
    copied = ManifestObject(item.key, reader.size, reader.sha256.hexdigest())
    if (copied.size, copied.sha256) != (item.size, item.sha256):
        raise LauncherError(f"object {item.key}: {copied.size} bytes, sha256 {copied.sha256}; expected {item}")
    return copied


def run_postgres_tool(program: str, *args: str) -> None:
    """pg_dump or pg_restore, without owners or privileges (the restored stack has its own role)."""
    result = subprocess.run(
        [postgres_bin(program), "--no-owner", "--no-privileges", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise LauncherError(f"{program} failed: {result.stderr.strip()}")


def _dump_with_objects(stack: StackInfo, dump_path: Path) -> list[ManifestObject]:
    """pg_dump and the object list, both from one snapshot of the database."""
    database_url = stack.env["DATABASE_URL"]
    with psycopg.connect(database_url, autocommit=False) as db:
        db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_row = db.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot_row is not None
        objects = [ManifestObject(key, size, sha) for key, size, sha in db.execute(REFERENCED_OBJECTS)]
        run_postgres_tool(
            "pg_dump", "--format=custom", f"--snapshot={snapshot_row[0]}", "-f", str(dump_path), "-d", database_url
        )
        db.rollback()
    return objects


def backup(stack: StackInfo, location: str, say: Any = print) -> Manifest:
    """Write one consistent backup of the running stack to ``location`` (an empty folder or S3 prefix)."""
    store = open_store(location)
    if not store.is_empty():
        raise LauncherError(f"{location} is not empty: a backup goes into a new folder or prefix")
    source = StackObjects(stack)

    def put_object(key: str, body: Readable) -> None:
        store.put(f"objects/{key}", body)

    for attempt in range(1, ATTEMPTS + 1):
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as scratch:
            dump_path = Path(scratch) / DUMP
            objects = _dump_with_objects(stack, dump_path)
            say(f"metadata dumped ({dump_path.stat().st_size} bytes); copying {len(objects)} objects …")
            try:
                with ThreadPoolExecutor(COPY_THREADS) as pool:
                    copied = list(pool.map(lambda item: copy_object(item, source.read, put_object), objects))
            except ObjectVanished as gone:
                say(f"object {gone} was deleted during the copy; starting again from a new snapshot")
                continue
            with dump_path.open("rb") as dump:
                store.put(DUMP, dump)
        manifest = Manifest(FORMAT, datetime.now(UTC).isoformat(), stack.env["LIFTBIT_URL"], copied)
        store.put(MANIFEST, io.BytesIO(manifest.to_json().encode()))
        say(
            f"backup written to {location}: {len(copied)} objects, {manifest.total_bytes} bytes, "
            f"in {time.monotonic() - started:.1f} s (attempt {attempt})"
        )
        return manifest
    raise LauncherError(f"objects kept vanishing during {ATTEMPTS} attempts; is a purge running?")


def read_manifest(store: BackupStore, location: str) -> Manifest:
    if not store.exists(MANIFEST):
        raise LauncherError(f"{location} holds no complete backup (no {MANIFEST})")
    with store.get(MANIFEST) as body:
        return Manifest.from_json(body.read().decode())


def restore_metadata(stack: StackInfo, store: BackupStore) -> None:
    """Replace the (new, stopped) stack's database with the backup's, in one transaction."""
    with tempfile.TemporaryDirectory() as scratch:
        dump_path = Path(scratch) / DUMP
        with store.get(DUMP) as body, dump_path.open("wb") as out:
            shutil.copyfileobj(body, out, CHUNK)
        run_postgres_tool(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "-d",
            stack.env["DATABASE_URL"],
            str(dump_path),
        )
    # An unfinished resumable upload cannot come back: its parts live in the old S3 server's
    # multipart state, not in any object. Its client starts it again; its quota reservation goes.
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        db.execute("DELETE FROM uploads")


def restore_objects(stack: StackInfo, store: BackupStore, manifest: Manifest, say: Any = print) -> None:
    """Copy every object into the stack's bucket, then read each back and check it against the
    manifest (size and SHA-256)."""
    target = StackObjects(stack)

    @contextmanager
    def from_backup(key: str) -> Iterator[Readable]:
        with store.get(f"objects/{key}") as body:
            yield body

    def discard(_key: str, body: Readable) -> None:
        while body.read(CHUNK):
            pass

    with ThreadPoolExecutor(COPY_THREADS) as pool:
        list(pool.map(lambda item: copy_object(item, from_backup, target.write), manifest.objects))
        say(f"{len(manifest.objects)} objects restored; verifying each against the manifest …")
        list(pool.map(lambda item: copy_object(item, target.read, discard), manifest.objects))
