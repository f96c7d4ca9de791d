"""Resumable uploads (tus 1.0: core, creation, termination, checksum, expiration) on S3 multipart.

Whole parts of a request go to S3 as multipart parts; an unaligned remainder waits in a tail
object until the next request. Progress is recorded in metadata_ms only after the bytes are
stored, so an interrupted request loses nothing that was acknowledged; and it is recorded after
every part, not only at the end of a request: tus clients send a whole file as one PATCH, and a
crash of any service during it then costs at most one part (8 MiB) to send again, not the file."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import math
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime, timedelta

from files_ms.clients.protocols import Metadata, Storage
from files_ms.service.files import CountedBody, FileService, Uploader
from files_ms.service.http_semantics import stored_media_type
from liftbit_common.contracts import (
    FileCommit,
    NewUpload,
    ObjectRef,
    ProgressUpdate,
    UploadLease,
    UploadProgress,
    UploadState,
)
from liftbit_common.errors import (
    BadRequest,
    Conflict,
    ErrorCode,
    LiftbitError,
    PayloadTooLarge,
    ServiceUnavailable,
    upload_not_found,
)
from liftbit_common.rules import S3_MAX_PARTS, MiB, new_object_key

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,checksum,expiration"
# A request waits this long for the one before it to finish writing, then gets 409 upload_busy.
LEASE_WAIT_SECONDS = 60
# A copy of files_ms that died mid-request holds its upload until its lease lapses.
LEASE_SECONDS = 10.0
# How often a waiting request asks again: the most a HEAD right after a cut waits past the cut
# request's end.
LEASE_POLL_SECONDS = 0.05


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
            raise BadRequest(
                f"Upload-Metadata value of {key!r} is not base64 UTF-8", code=ErrorCode.INVALID_METADATA
            ) from exc
    return pairs


class Segments:
    """One body cut into consecutive pieces of chosen lengths, each an async iterator of its own."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = aiter(chunks)
        self._leftover = b""

    async def has_more(self) -> bool:
        if not self._leftover:
            self._leftover = await anext(self._chunks, b"")
        return bool(self._leftover)

    async def take(self, limit: int) -> AsyncIterator[bytes]:
        """The next ``limit`` bytes of the body (fewer if it ends first)."""
        remaining = limit
        while remaining > 0 and await self.has_more():
            if len(self._leftover) <= remaining:  # the usual case: pass the chunk on, no copy
                piece, self._leftover = self._leftover, b""
            else:
                piece, self._leftover = self._leftover[:remaining], self._leftover[remaining:]
            remaining -= len(piece)
            yield piece


def part_size_for(length: int, preferred: int) -> int:
    """The preferred part size, grown (in whole MiB) so the file fits in S3's 10,000 parts."""
    needed = math.ceil(length / S3_MAX_PARTS / MiB) * MiB
    return max(preferred, needed)


class ResumableUploads:
    def __init__(
        self,
        metadata: Metadata,
        storage: Storage,
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

    async def create(self, uploader: Uploader, length: int, metadata_header: str | None) -> UploadState:
        """``uploader`` (an optional key of Upload-Metadata) is the name a link's uploader gives."""
        metadata = parse_upload_metadata(metadata_header)
        # ``path`` (folders and name) wins; else ``filename``, which may itself be a path.
        named = metadata.get("path") or metadata.get("filename")
        if named is None:
            raise BadRequest(
                "Upload-Metadata must name the file: filename <base64> (or path <base64>)",
                code=ErrorCode.FILENAME_REQUIRED,
            )
        path = uploader.path_of(named)
        owner = uploader.owner
        limit = await self._files.upload_limit(owner, path, keep_existing=uploader.link_id is not None)
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
            link_id=uploader.link_id,
            uploader_name=uploader.name_in(metadata),
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
    async def _writing(self, uploader: Uploader, upload_id: uuid.UUID) -> AsyncIterator[UploadState]:
        """One request at a time per upload, whichever files_ms copy it reaches: a lease on the
        upload in metadata_ms, renewed while the request runs. A request whose client just
        vanished may still be storing what it received: the next one waits for it, so the offset
        it sees is final. (Correctness does not rest on it: metadata_ms checks every offset.)"""
        lease = UploadLease(writer=uuid.uuid4(), seconds=LEASE_SECONDS)
        upload = await self._take(uploader.owner, upload_id, lease)
        renewal = asyncio.create_task(self._renew(uploader.owner, upload_id, lease), name="upload-lease")
        try:
            if not uploader.may_see(upload):
                raise upload_not_found(upload_id)
            yield upload
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            # Unreleased, the lease lapses by itself after LEASE_SECONDS.
            with contextlib.suppress(ServiceUnavailable):
                await self._metadata.release_upload(uploader.owner, upload_id, lease.writer)

    async def _take(self, owner: str, upload_id: uuid.UUID, lease: UploadLease) -> UploadState:
        deadline = asyncio.get_running_loop().time() + LEASE_WAIT_SECONDS
        while True:
            try:
                return await self._metadata.lease_upload(owner, upload_id, lease)
            except Conflict as exc:
                if exc.code != ErrorCode.UPLOAD_BUSY or asyncio.get_running_loop().time() >= deadline:
                    raise
            await asyncio.sleep(LEASE_POLL_SECONDS)

    async def _renew(self, owner: str, upload_id: uuid.UUID, lease: UploadLease) -> None:
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            try:
                await self._metadata.lease_upload(owner, upload_id, lease)
            except ServiceUnavailable:
                continue  # the next try may reach it; the lease has two more thirds to run
            except LiftbitError:
                return  # finished, removed, or (after a long outage) taken by the next writer

    async def status(self, uploader: Uploader, upload_id: uuid.UUID) -> UploadState:
        async with self._writing(uploader, upload_id) as upload:
            if upload.progress.offset == upload.length:
                # All bytes arrived but the file was not committed (a crash right at the end).
                await self._finish(upload)
            return upload

    async def append(
        self,
        uploader: Uploader,
        upload_id: uuid.UUID,
        offset: int,
        body: AsyncIterable[bytes],
        *,
        upload_checksum: str | None,
    ) -> UploadState:
        async with self._writing(uploader, upload_id) as upload:
            if offset != upload.progress.offset:
                raise Conflict(
                    f"Upload-Offset {offset} does not match the upload's offset {upload.progress.offset}",
                    code=ErrorCode.OFFSET_MISMATCH,
                )
            segments = Segments(body)
            while True:
                upload = await self._append_segment(upload, segments, upload_checksum)
                if upload.progress.offset == upload.length or not await segments.has_more():
                    break
            if upload.progress.offset == upload.length:
                await self._finish(upload)
            return upload

    async def _append_segment(
        self, upload: UploadState, segments: Segments, upload_checksum: str | None
    ) -> UploadState:
        """Store the body up to the next part boundary and record it. An Upload-Checksum covers
        the request's whole body, which storage_ms checks before anything is kept: then the
        whole body is one segment."""
        offset = upload.progress.offset
        remaining = upload.length - offset
        room = remaining if upload_checksum else min(remaining, upload.part_size - offset % upload.part_size)
        # The segment that reaches Upload-Length takes a byte more, if there is one: storage_ms then
        # refuses a body that goes past the end (413) before any of that segment is recorded.
        counted = CountedBody(segments.take(room + 1 if room == remaining else room))
        try:
            appended = await self._storage.append_parts(upload, counted, upload_checksum=upload_checksum)
        except ServiceUnavailable as exc:
            counted.reraise_own_failure()
            if counted.size > remaining:  # storage_ms refused it, its answer was lost
                raise PayloadTooLarge("the body goes past Upload-Length", code=ErrorCode.TOO_LARGE) from exc
            raise
        parts = {p.number: p for p in upload.progress.parts} | {p.number: p for p in appended.parts}
        progress = UploadProgress(
            offset=offset + appended.received,
            parts=[parts[n] for n in sorted(parts)],
            tail_key=appended.tail_key,
        )
        return await self._metadata.advance_upload(
            upload.owner, upload.id, ProgressUpdate(expected_offset=offset, progress=progress)
        )

    async def _finish(self, upload: UploadState) -> None:
        written = await self._storage.complete_multipart(upload.object_key, upload.s3_upload_id, upload.progress.parts)
        commit = FileCommit(
            object_key=upload.object_key,
            size=written.size,
            sha256=written.sha256,
            content_type=upload.content_type,
            actor=upload.owner if upload.link_id is None else f"link:{upload.link_id}",
            upload_id=upload.id,
            keep_existing=upload.link_id is not None,
            uploader_name=upload.uploader_name,
        )
        try:
            await self._files.commit_or_discard(upload.owner, upload.path, commit)
        except LiftbitError as exc:
            if exc.status_code < 500:  # refused for good (e.g. quota): the upload cannot finish
                await self._remove(upload.owner, upload.id)
            raise

    async def terminate(self, uploader: Uploader, upload_id: uuid.UUID) -> None:
        if not uploader.may_see(await self._metadata.get_upload(uploader.owner, upload_id)):
            raise upload_not_found(upload_id)
        await self._remove(uploader.owner, upload_id)

    async def _remove(self, owner: str, upload_id: uuid.UUID) -> None:
        removed = await self._metadata.remove_upload(owner, upload_id)
        await self._files.discard(removed.objects)
