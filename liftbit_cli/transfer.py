"""Resumable transfers: uploads over tus 1.0, downloads with Range into a `.part` file, both
checked against the SHA-256 the server records, with one rich progress display."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from liftbit_cli.api import Api, remote_path
from liftbit_cli.config import ResumeStore
from liftbit_cli.errors import CliError, ExitCode
from liftbit_common.contracts import FileInfo, VersionInfo

MiB = 1024 * 1024
CHUNK = MiB  # per read and per progress step; large enough that Python's per-chunk cost stays small
RETRIES = 3  # a cut connection or a 503 mid-transfer: continue from the server's offset this often


class Interrupted(Exception):
    """Ctrl-C while bytes were moving: the transfer stopped where it was and can resume."""


def progress_display(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


class Throttle:
    """At most ``bytes_per_second`` for all transfers of this process together (`--limit-rate`)."""

    def __init__(self, bytes_per_second: int | None) -> None:
        self.rate = bytes_per_second
        self.started = time.monotonic()
        self.sent = 0
        self.lock = threading.Lock()

    def take(self, size: int) -> None:
        if not self.rate:
            return
        with self.lock:
            self.sent += size
            ahead = self.sent / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            time.sleep(ahead)


@dataclass
class Transfers:
    """What every transfer of one command shares."""

    api: Api
    username: str
    progress: Progress
    cancel: threading.Event
    throttle: Throttle
    keep_rows: bool  # False: a finished transfer's progress row is removed (many files)

    def finished(self, task: TaskID) -> None:
        if not self.keep_rows:
            self.progress.remove_task(task)

    def chunks(self, stream: BinaryIO, digest: hashlib._Hash, task: TaskID) -> Iterator[bytes]:
        while chunk := stream.read(CHUNK):
            if self.cancel.is_set():
                raise Interrupted
            self.throttle.take(len(chunk))
            digest.update(chunk)
            self.progress.advance(task, len(chunk))
            yield chunk


def sha256_of_file(path: Path) -> str:
    with path.open("rb") as stream:
        return sha256_of_start(stream, path.stat().st_size).hexdigest()


def sha256_of_start(stream: BinaryIO, length: int) -> hashlib._Hash:
    """The running SHA-256 of the first ``length`` bytes, which the server already has."""
    digest = hashlib.sha256()
    remaining = length
    while remaining and (chunk := stream.read(min(CHUNK, remaining))):
        digest.update(chunk)
        remaining -= len(chunk)
    return digest


@dataclass(frozen=True)
class Upload:
    local: Path
    remote: str  # the file's name (or path) in the user's namespace

    def resume_key(self, url: str, username: str) -> str:
        # Size and mtime: a file changed since the interrupted attempt starts afresh.
        stat = self.local.stat()
        return f"{url}|{username}|{self.remote}|{self.local.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def upload(transfers: Transfers, store: ResumeStore, job: Upload) -> FileInfo:
    """Upload ``job`` over tus, continuing an earlier attempt when the server still holds it."""
    api, size = transfers.api, job.local.stat().st_size
    key = job.resume_key(api.url, transfers.username)
    location = store.get(key)
    offset = api.tus_offset(location, job.remote) if location else None
    resumed = offset is not None
    if location is None or offset is None:
        content_type = mimetypes.guess_type(job.local.name)[0] or "application/octet-stream"
        location, offset = api.tus_create(job.remote, size, content_type), 0
        store.put(key, location)
    if resumed:
        transfers.progress.console.print(f"{job.remote}: resuming at {offset:,} of {size:,} bytes", markup=False)
    task = transfers.progress.add_task(escape(job.remote), total=size, completed=offset)
    with job.local.open("rb") as stream:
        for attempt in range(RETRIES + 1):
            stream.seek(0)
            digest = sha256_of_start(stream, offset)
            transfers.progress.update(task, completed=offset)
            if offset >= size:
                break
            try:
                api.tus_append(location, job.remote, offset, transfers.chunks(stream, digest, task), size - offset)
                break
            except CliError as exc:
                if exc.exit_code != ExitCode.UNAVAILABLE or attempt == RETRIES:
                    raise
                time.sleep(2**attempt)
                offset = api.tus_offset(location, job.remote) or 0
    store.forget(key)
    transfers.finished(task)
    info = api.info(transfers.username, job.remote)
    if info.sha256 != digest.hexdigest():
        raise CliError(
            ExitCode.CORRUPT,
            f"{job.remote}: the server stored SHA-256 {info.sha256}, the local file has {digest.hexdigest()}",
        )
    return info


def part_path(destination: Path) -> Path:
    return destination.with_name(destination.name + ".part")


@dataclass(frozen=True)
class Remote:
    """Bytes to download: a file's current content or one of its versions."""

    url: str
    label: str
    size: int
    sha256: str

    @classmethod
    def current(cls, file: FileInfo) -> Remote:
        return cls(f"/users/{file.owner}/files/{remote_path(file.path)}", file.path, file.size, file.sha256)

    @classmethod
    def version(cls, file: FileInfo, version: VersionInfo) -> Remote:
        label = f"{file.path} (version {version.version})"
        return cls(f"/files/{file.id}/versions/{version.version}", label, version.size, version.sha256)


def download(transfers: Transfers, remote: Remote, destination: Path) -> None:
    """Download into ``destination.part`` (continuing what it holds), check the SHA-256, then rename."""
    part = part_path(destination)
    have = part.stat().st_size if part.exists() else 0
    if have > remote.size:
        have = 0
    if have:
        transfers.progress.console.print(f"{remote.label}: resuming at {have:,} of {remote.size:,} bytes", markup=False)
    task = transfers.progress.add_task(escape(remote.label), total=remote.size, completed=have)
    with part.open("r+b" if have else "wb") as stream:
        digest, expected = sha256_of_start(stream, have), remote.sha256
        if have < remote.size:
            digest, expected = receive(transfers, remote, stream, digest, task)
        stream.truncate()
    transfers.finished(task)
    if digest.hexdigest() != expected:
        part.unlink()
        raise CliError(
            ExitCode.CORRUPT,
            f"{remote.label}: the bytes received have SHA-256 {digest.hexdigest()}, the server says {expected}; "
            "removed the partial file, run the same command again",
        )
    os.replace(part, destination)


def receive(
    transfers: Transfers, remote: Remote, stream: BinaryIO, digest: hashlib._Hash, task: TaskID
) -> tuple[hashlib._Hash, str]:
    """Write the bytes from the stream's position on (``digest`` covers what is before it).
    Returns the SHA-256 of everything written and the one the server names (the ETag)."""
    have = stream.tell()
    headers = {"Range": f"bytes={have}-", "If-Range": f'"{remote.sha256}"'} if have else {}
    try:
        with transfers.api.stream("GET", remote.url, headers=headers) as response:
            if response.is_error:
                raise transfers.api.error_for(response, remote.label)
            if response.status_code == 200 and have:  # the file changed since the partial download
                stream.seek(0)
                digest = hashlib.sha256()
                transfers.progress.update(task, completed=0, total=int(response.headers["Content-Length"]))
            for chunk in response.iter_bytes(CHUNK):
                if transfers.cancel.is_set():
                    raise Interrupted
                transfers.throttle.take(len(chunk))
                stream.write(chunk)
                digest.update(chunk)
                transfers.progress.advance(task, len(chunk))
            return digest, response.headers.get("ETag", f'"{remote.sha256}"').strip('"')
    except httpx.TransportError as exc:
        raise transfers.api.unreachable(exc) from exc
