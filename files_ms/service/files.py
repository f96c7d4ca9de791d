"""Uploading, downloading, listing and deleting files: the orchestration of metadata and bytes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from files_ms.clients.protocols import Metadata, Storage
from files_ms.service.access import AccessPolicy
from files_ms.service.http_semantics import (
    ByteRange,
    content_disposition,
    entity_tag,
    if_match_fails,
    if_none_match_hits,
    if_range_allows,
    parse_range,
)
from liftbit_common.contracts import (
    CommitResult,
    DownloadRecord,
    FileCommit,
    FileInfo,
    FilePage,
    NodeInfo,
    ObjectRef,
    StoredFile,
    UploadState,
)
from liftbit_common.errors import ErrorCode, LiftbitError, PayloadTooLarge, PreconditionFailed, ServiceUnavailable
from liftbit_common.internal_api.route import Encoded
from liftbit_common.internal_api.storage import WriteOptions
from liftbit_common.names import normalize_path
from liftbit_common.rules import new_object_key

# Uploads with a declared length up to this go without metadata_ms's pre-check (see store()).
PRECHECK_FROM_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Conditions:
    """The request headers that shape a download."""

    range: str | None = None
    if_range: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None


# Publishes a download about to be served: (bytes served, the range or None for the whole file).
DownloadRecorder = Callable[[int, ByteRange | None], Awaitable[None]]


@dataclass(frozen=True)
class Download:
    """What to answer: headers always; for 200/206 the presigned URL nginx fetches the bytes from."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    byte_range: ByteRange | None = None
    object_url: str | None = None


@dataclass(frozen=True)
class Uploader:
    """Who uploads: a user into their own namespace, or a recipient of a file-request link into
    the link's folder, where nothing is ever replaced (a taken name becomes ``name (2).ext``) and
    only the uploads made through that link can be seen or continued."""

    owner: str
    folder: str | None = None
    link_id: str | None = None

    @property
    def actor(self) -> str:
        return self.owner if self.link_id is None else f"link:{self.link_id}"

    def path_of(self, named: str) -> str:
        path = normalize_path(named)
        return path if self.folder is None else f"{self.folder}/{path}"

    def name_in(self, metadata: dict[str, str]) -> str | None:
        """The name a link's uploader gave (Upload-Metadata ``uploader``), if any."""
        name = metadata.get("uploader", "").strip()[:200] if self.link_id else ""
        return name or None

    def may_see(self, upload: UploadState) -> bool:
        return self.link_id is None or str(upload.link_id) == self.link_id


@dataclass(frozen=True)
class UploadLimit:
    """The most bytes an upload may have, and which rule sets it."""

    max_bytes: int
    reason: str
    code: ErrorCode

    def error(self) -> PayloadTooLarge:
        return PayloadTooLarge(self.reason, code=self.code)


class CountedBody:
    """A body on its way to storage_ms, counted. storage_ms refuses the bytes past a limit, but
    its early answer can be lost while the body is still being sent (the connection closes under
    the sender): the count tells that refusal from a lost connection."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.size = 0
        self.failure: Exception | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._chunks:
                self.size += len(chunk)
                yield chunk
        except Exception as exc:
            # The body itself failed (a malformed form, the client gone): the HTTP client sending
            # it to storage_ms reports a lost connection, which must not read as storage_ms's fault.
            self.failure = exc
            raise

    def reraise_own_failure(self) -> None:
        if self.failure is not None:
            raise self.failure


def representation_headers(file: FileInfo) -> dict[str, str]:
    return {
        "ETag": entity_tag(file.sha256),
        "Content-Disposition": content_disposition(file.filename),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
        "Last-Modified": file.updated_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    }


class FileService:
    def __init__(self, metadata: Metadata, storage: Storage, access: AccessPolicy, *, max_file_size: int) -> None:
        self._metadata = metadata
        self._storage = storage
        self._access = access
        self.max_file_size = max_file_size

    async def upload_limit(self, owner: str, path: str, *, keep_existing: bool = False) -> UploadLimit:
        """Also refuses, before any byte is stored, a path that is too deep or long, or has a
        folder where the file goes (unless the commit will keep what exists) or a file where a
        folder goes."""
        allowance = await self._metadata.upload_allowance(owner, path, keep_existing=keep_existing)
        if allowance.max_bytes is not None and allowance.max_bytes < self.max_file_size:
            return UploadLimit(
                allowance.max_bytes,
                f"storage quota exceeded: {allowance.max_bytes} bytes left (earlier versions and the trash count)",
                code=ErrorCode.QUOTA_EXCEEDED,
            )
        return self.file_size_limit()

    def file_size_limit(self) -> UploadLimit:
        return UploadLimit(
            self.max_file_size, f"files may be at most {self.max_file_size} bytes", code=ErrorCode.FILE_TOO_LARGE
        )

    async def upload(
        self,
        actor: str,
        owner: str,
        path: str,
        body: AsyncIterable[bytes],
        *,
        content_type: str,
        declared_size: int | None,
        expected_sha256: str | None,
    ) -> CommitResult:
        """A user's upload into their own namespace."""
        self._access.require_self(actor, owner)
        return await self.store(
            Uploader(owner=owner),
            path,
            body,
            content_type=content_type,
            declared_size=declared_size,
            expected_sha256=expected_sha256,
        )

    async def store(
        self,
        uploader: Uploader,
        path: str,
        body: AsyncIterable[bytes],
        *,
        content_type: str,
        declared_size: int | None,
        expected_sha256: str | None,
    ) -> CommitResult:
        """Store the bytes under a fresh key, then point the file at them in one metadata commit
        (the replaced content becomes a version; through a file request nothing is replaced). A
        failure at any step changes nothing."""
        owner, keep_existing = uploader.owner, uploader.link_id is not None
        if declared_size is not None and declared_size <= PRECHECK_FROM_BYTES:
            # The commit checks again what the pre-check would (the path, the quota), so a small
            # upload skips it: one metadata call per upload instead of two. A refused one costs a
            # small object stored and removed at once.
            limit = self.file_size_limit()
        else:
            limit = await self.upload_limit(owner, path, keep_existing=keep_existing)
        if declared_size is not None and declared_size > limit.max_bytes:
            raise limit.error()
        key = new_object_key()
        counted = CountedBody(body)
        try:
            options = WriteOptions(
                content_type=content_type,
                max_bytes=limit.max_bytes,
                expected_size=declared_size,
                expected_sha256=expected_sha256,
            )
            written = await self._storage.write(key, counted, options)
        except PayloadTooLarge as exc:
            raise limit.error() from exc
        except ServiceUnavailable as exc:
            counted.reraise_own_failure()
            if counted.size > limit.max_bytes:  # storage_ms refused the bytes past the limit, its answer was lost
                raise limit.error() from exc
            raise
        commit = FileCommit(
            object_key=key,
            size=written.size,
            sha256=written.sha256,
            content_type=content_type,
            actor=uploader.actor,
            keep_existing=keep_existing,
        )
        return await self.commit_or_discard(owner, path, commit)

    async def commit_or_discard(self, owner: str, path: str, commit: FileCommit) -> CommitResult:
        try:
            return await self._metadata.commit(owner, path, commit)
        except ServiceUnavailable:
            # No answer, or too late: the commit may have gone through (or still may), so the
            # object must stay. If nothing refers to it, the orphan sweep removes it after its grace.
            raise
        except LiftbitError:
            # metadata_ms refused the commit (quota, unknown user…): nothing refers to the object.
            await self.discard([ObjectRef(object_key=commit.object_key)])
            raise

    async def discard(self, objects: list[ObjectRef]) -> None:
        """Best-effort removal of objects metadata no longer refers to; the sweeper retries."""
        with contextlib.suppress(LiftbitError):
            await asyncio.shield(self._storage.delete(objects))

    async def download(self, actor: str, owner: str, path: str, conditions: Conditions) -> Download:
        return await self.serve_to(actor, await self._access.readable_file(actor, owner, path), conditions)

    async def serve_to(self, actor: str, file: StoredFile, conditions: Conditions) -> Download:
        """A download by a user: the event names them as its actor."""

        async def record(served: int, _: ByteRange | None) -> None:
            await self._metadata.record_download(file.id, DownloadRecord(actor=actor, size=served))

        return await self.serve(file, conditions, record)

    async def serve(self, file: StoredFile, conditions: Conditions, record: DownloadRecorder) -> Download:
        """Answer a download of these bytes (a file's current content or one of its versions);
        ``record`` publishes it (and may refuse it) once the bytes are about to be served."""
        headers = representation_headers(file.public())
        etag = headers["ETag"]
        if if_match_fails(conditions.if_match, etag):
            raise PreconditionFailed("If-Match does not name the file's current ETag", headers={"ETag": etag})
        if if_none_match_hits(conditions.if_none_match, etag):
            return Download(status=304, headers=headers)
        byte_range = parse_range(conditions.range, file.size) if if_range_allows(conditions.if_range, etag) else None
        served = byte_range.length if byte_range else file.size
        # Sign first, then record the download: a download refused here publishes no event.
        url = await self._storage.presigned_url(
            file.object_key, content_type=file.content_type, content_disposition=headers["Content-Disposition"]
        )
        await record(served, byte_range)
        return Download(status=206 if byte_range else 200, headers=headers, byte_range=byte_range, object_url=url)

    async def describe(self, actor: str, owner: str, path: str) -> StoredFile:
        return await self._access.readable_file(actor, owner, path)

    async def list_files(
        self, actor: str, owner: str, limit: int, cursor: str | None, *, prefix: str | None, query: str | None
    ) -> Encoded[FilePage]:
        self._access.require_self(actor, owner)
        return await self._metadata.list_files(owner, limit, cursor, prefix=prefix, query=query)

    async def delete(self, actor: str, owner: str, path: str) -> None:
        """To the trash: the bytes stay until it is purged."""
        self._access.require_self(actor, owner)
        await self._metadata.trash(owner, path, "file", actor)

    async def _owned_id(self, actor: str, owner: str, path: str) -> str:
        self._access.require_self(actor, owner)
        return (await self._access.readable(actor, owner, path)).node.id

    async def grantees(self, actor: str, owner: str, path: str) -> list[str]:
        return await self._metadata.grantees(await self._owned_id(actor, owner, path), owner)

    async def grant(self, actor: str, owner: str, path: str, grantee: str) -> None:
        await self._metadata.grant(await self._owned_id(actor, owner, path), owner, grantee)

    async def revoke(self, actor: str, owner: str, path: str, grantee: str) -> None:
        await self._metadata.revoke(await self._owned_id(actor, owner, path), owner, grantee)

    async def shared_with(self, actor: str, username: str, query: str | None) -> list[NodeInfo]:
        self._access.require_self(actor, username)
        return await self._metadata.shared_with(username, query)
