"""Resumable uploads (tus 1.0: core, creation, termination, checksum, expiration) on S3 multipart.

Whole parts of a request go to S3 as multipart parts; an unaligned remainder waits in a tail
object until the next request. Progress is recorded in metadata_ms only after the bytes are
stored, so an interrupted request loses nothing that was acknowledged."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import math
import uuid
import weakref
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime, timedelta

from files_ms.clients.metadata import MetadataClient
from files_ms.clients.storage import StorageClient
from files_ms.service.files import CountedBody, FileService, new_object_key
from files_ms.service.http_semantics import stored_media_type
from liftbit_common.contracts import FileCommit, NewUpload, ObjectRef, ProgressUpdate, UploadProgress, UploadState
from liftbit_common.errors import BadRequest, Conflict, LiftbitError, PayloadTooLarge, ServiceUnavailable
from liftbit_common.names import normalize_path

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,checksum,expiration"
TUS_CHECKSUM_ALGORITHMS = "sha256,sha1,md5"
S3_MAX_PARTS = 10_000
MiB = 1024 * 1024
LOCK_WAIT_SECONDS = 60


def parse_upload_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata: key base64value,key2 base64value2`` (values may be absent)."""
    pairs: dict[str, str] = {}
    for item in (header or "").split(","):
        if not item.strip():
            continue
        key, _, encoded = item.strip().partition(" ")
        try:
            pairs[key] = base64.b64decode(encoded, validate=True).decode() if encoded else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(f"Upload-Metadata value of {key!r} is not base64 UTF-8", code="invalid_metadata") from exc
    return pairs


def part_size_for(length: int, preferred: int) -> int:
    """The preferred part size, grown (in whole MiB) so the file fits in S3's 10,000 parts."""
    needed = math.ceil(length / S3_MAX_PARTS / MiB) * MiB
    return max(preferred, needed)


class ResumableUploads:
    def __init__(
        self,
        metadata: MetadataClient,
        storage: StorageClient,
        files: FileService,
        *,
        part_size: int,
        expiry_seconds: int,
    ) -> None:
        self._metadata = metadata
        self._storage = storage
        self._files = files
        self._part_size = part_size
        self._expiry = timedelta(seconds=expiry_seconds)
        # Per upload, in this process; metadata_ms's offset check covers several processes.
        self._locks: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    async def create(self, owner: str, length: int, metadata_header: str | None) -> UploadState:
        metadata = parse_upload_metadata(metadata_header)
        # ``path`` (folders and name) wins; else ``filename``, which may itself be a path.
        named = metadata.get("path") or metadata.get("filename")
        if named is None:
            raise BadRequest(
                "Upload-Metadata must name the file: filename <base64> (or path <base64>)", code="filename_required"
            )
        path = normalize_path(named)
        limit = await self._files.upload_limit(owner, path)
        if length > limit.max_bytes:
            raise limit.error()
        content_type = stored_media_type(metadata.get("filetype") or metadata.get("content_type"), path)
        key = new_object_key()
        s3_upload_id = await self._storage.start_multipart(key, content_type)
        new = NewUpload(
            id=uuid.uuid4(),
            path=path,
            content_type=content_type,
            length=length,
            part_size=part_size_for(length, self._part_size),
            object_key=key,
            s3_upload_id=s3_upload_id,
            metadata_header=metadata_header or "",
            expires_at=datetime.now(UTC) + self._expiry,
        )
        try:
            upload = await self._metadata.create_upload(owner, new)
        except BaseException:
            await self._files.discard([ObjectRef(object_key=key, s3_upload_id=s3_upload_id)])
            raise
        if length == 0:
            await self._finish(upload)
        return upload

    @contextlib.asynccontextmanager
    async def _exclusive(self, upload_id: uuid.UUID) -> AsyncIterator[None]:
        """One request at a time per upload. A request whose client just vanished may still be
        storing what it received: the next one waits for it, so the offset it sees is final."""
        lock = self._locks.setdefault(upload_id, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), timeout=LOCK_WAIT_SECONDS)
        except TimeoutError as exc:
            raise Conflict("another request is still writing to this upload", code="upload_busy") from exc
        try:
            yield
        finally:
            lock.release()

    async def status(self, owner: str, upload_id: uuid.UUID) -> UploadState:
        async with self._exclusive(upload_id):
            upload = await self._metadata.get_upload(owner, upload_id)
            if upload.progress.offset == upload.length:
                # All bytes arrived but the file was not committed (a crash right at the end).
                await self._finish(upload)
            return upload

    async def append(
        self,
        owner: str,
        upload_id: uuid.UUID,
        offset: int,
        body: AsyncIterable[bytes],
        *,
        upload_checksum: str | None,
    ) -> UploadState:
        async with self._exclusive(upload_id):
            upload = await self._metadata.get_upload(owner, upload_id)
            if offset != upload.progress.offset:
                raise Conflict(
                    f"Upload-Offset {offset} does not match the upload's offset {upload.progress.offset}",
                    code="offset_mismatch",
                )
            counted = CountedBody(body)
            try:
                appended = await self._storage.append_parts(upload, counted, upload_checksum=upload_checksum)
            except ServiceUnavailable as exc:
                if counted.size > upload.length - offset:  # storage_ms refused it, its answer was lost
                    raise PayloadTooLarge("the body goes past Upload-Length", code="too_large") from exc
                raise
            parts = {p.number: p for p in upload.progress.parts} | {p.number: p for p in appended.parts}
            progress = UploadProgress(
                offset=offset + appended.received,
                parts=[parts[n] for n in sorted(parts)],
                tail_key=appended.tail_key,
            )
            upload = await self._metadata.advance_upload(
                owner, upload_id, ProgressUpdate(expected_offset=offset, progress=progress)
            )
            if upload.progress.offset == upload.length:
                await self._finish(upload)
            return upload

    async def _finish(self, upload: UploadState) -> None:
        written = await self._storage.complete_multipart(upload.object_key, upload.s3_upload_id, upload.progress.parts)
        commit = FileCommit(
            object_key=upload.object_key,
            size=written.size,
            sha256=written.sha256,
            content_type=upload.content_type,
            actor=upload.owner,
            upload_id=upload.id,
        )
        try:
            await self._files.commit_or_discard(upload.owner, upload.path, commit)
        except LiftbitError as exc:
            if exc.status_code < 500:  # refused for good (e.g. quota): the upload cannot finish
                await self.terminate(upload.owner, upload.id)
            raise

    async def terminate(self, owner: str, upload_id: uuid.UUID) -> None:
        removed = await self._metadata.remove_upload(owner, upload_id)
        await self._files.discard(removed.objects)
