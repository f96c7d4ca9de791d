"""Object writes and reads: bodies stream through in parts, never whole in memory or on disk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, Sequence
from datetime import UTC, datetime, timedelta

from liftbit_common.contracts import (
    AppendedParts,
    ObjectRef,
    StaleMultipartUpload,
    StaleObjects,
    UploadPart,
    WrittenObject,
)
from liftbit_common.errors import Conflict, ErrorCode, NotFound
from storage_ms.s3 import ObjectStore
from storage_ms.streams import StreamMeter, fixed_blocks


class PartPipeline:
    """Uploads parts concurrently, at most ``concurrency`` at a time, so memory stays bounded."""

    def __init__(self, store: ObjectStore, key: str, upload_id: str, concurrency: int) -> None:
        self._store = store
        self._key = key
        self._upload_id = upload_id
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._etags: dict[int, str] = {}
        self._failure: BaseException | None = None

    async def submit(self, number: int, body: bytes | bytearray) -> None:
        await self._slots.acquire()
        if self._failure is not None:
            self._slots.release()
            raise self._failure
        task = asyncio.create_task(self._upload(number, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _upload(self, number: int, body: bytes | bytearray) -> None:
        try:
            self._etags[number] = await self._store.upload_part(self._key, self._upload_id, number, body)
        except BaseException as exc:
            self._failure = self._failure or exc
        finally:
            self._slots.release()

    async def finish(self) -> list[UploadPart]:
        await asyncio.gather(*self._tasks)
        if self._failure is not None:
            raise self._failure
        return [UploadPart(number=n, etag=etag) for n, etag in sorted(self._etags.items())]

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class ObjectService:
    def __init__(self, store: ObjectStore, *, part_size: int, concurrency: int, presign_ttl_seconds: int) -> None:
        self._store = store
        self.part_size = part_size
        self._concurrency = concurrency
        self._presign_ttl = presign_ttl_seconds
        self._aborts: set[asyncio.Task[None]] = set()

    async def write(
        self, key: str, body: AsyncIterable[bytes], *, content_type: str, meter: StreamMeter
    ) -> WrittenObject:
        """Store the body under ``key``: all of it, checked against the meter's limits, or nothing."""
        blocks = fixed_blocks(meter.measure(body), self.part_size)
        first = await anext(blocks, bytearray())
        if len(first) < self.part_size:  # the whole body: one PUT
            meter.verify()
            await self._store.put(key, first, content_type)
            return WrittenObject(key=key, size=meter.size, sha256=meter.sha256)
        # A full first block: go multipart now, so that part 1 travels while part 2 is read (a body
        # of exactly one part becomes a one-part upload, which S3 accepts).
        upload_id = await self._store.start_multipart(key, content_type)
        pipeline = PartPipeline(self._store, key, upload_id, self._concurrency)
        try:
            await pipeline.submit(1, first)
            number = 1
            async for block in blocks:
                number += 1
                await pipeline.submit(number, block)
            meter.verify()
            parts = await pipeline.finish()
            await self._store.complete_multipart(key, upload_id, [(p.number, p.etag) for p in parts])
        except BaseException:
            await pipeline.cancel()
            self._abort_in_background(key, upload_id)
            raise
        return WrittenObject(key=key, size=meter.size, sha256=meter.sha256)

    async def start_multipart(self, key: str, content_type: str) -> str:
        return await self._store.start_multipart(key, content_type)

    async def append_parts(
        self,
        key: str,
        upload_id: str,
        body: AsyncIterable[bytes],
        *,
        offset: int,
        length: int,
        part_size: int,
        tail_key: str | None,
        meter: StreamMeter,
    ) -> AppendedParts:
        """One resumable-upload request: whole parts go to S3 as parts; a short remainder is kept
        as a tail object until the next request, unless this request reached the end."""
        head = await self._store.get_bytes(tail_key) if tail_key else b""
        if len(head) != offset % part_size:
            raise Conflict("stored upload state is inconsistent; start the upload again", code=ErrorCode.UPLOAD_CORRUPT)
        number = offset // part_size
        pipeline = PartPipeline(self._store, key, upload_id, self._concurrency)
        remainder: bytes | bytearray = b""
        try:
            async for block in fixed_blocks(meter.measure(body), part_size, head=head):
                if len(block) < part_size:
                    remainder = block
                    break
                number += 1
                await pipeline.submit(number, block)
            meter.verify()
            end = offset + meter.size
            if remainder and end == length:
                number += 1
                await pipeline.submit(number, remainder)
                remainder = b""
            parts = await pipeline.finish()
        except BaseException:
            await pipeline.cancel()
            raise
        new_tail = None
        if remainder:
            new_tail = f"{key}.tail-{end}"
            await self._store.put(new_tail, remainder, "application/octet-stream")
        return AppendedParts(received=meter.size, parts=parts, tail_key=new_tail)

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[UploadPart]) -> WrittenObject:
        """Assemble the parts, then read the object back once to know its size and SHA-256.
        Safe to repeat: if an earlier attempt completed it, the read-back alone answers."""
        if not parts:  # an empty file: S3 cannot complete a multipart upload without parts
            await self._store.abort_multipart(key, upload_id)
            await self._store.put(key, b"", "application/octet-stream")
        else:
            with contextlib.suppress(NotFound):
                await self._store.complete_multipart(key, upload_id, [(p.number, p.etag) for p in parts])
        meter = StreamMeter()
        async for _ in meter.measure(self._store.iter_object(key, 1024 * 1024)):
            pass
        return WrittenObject(key=key, size=meter.size, sha256=meter.sha256)

    def _abort_in_background(self, key: str, upload_id: str) -> None:
        """Abort a failed upload's parts without making the caller wait: S3 may be the part that
        failed, and the error must reach the client now. A task, so that a cancelled caller (client
        gone) still aborts; what fails here the reconciler's sweep aborts later."""
        task = asyncio.create_task(self._abort_quietly(key, upload_id))
        self._aborts.add(task)
        task.add_done_callback(self._aborts.discard)

    async def _abort_quietly(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(Exception):
            await self._store.abort_multipart(key, upload_id)

    async def finish_aborts(self) -> None:
        """At shutdown: let the aborts under way end."""
        await asyncio.gather(*self._aborts, return_exceptions=True)

    def presign(self, key: str, *, content_type: str, content_disposition: str) -> str:
        return self._store.presign_get(
            key, ttl_seconds=self._presign_ttl, content_type=content_type, content_disposition=content_disposition
        )

    async def delete(self, objects: Sequence[ObjectRef]) -> None:
        for ref in objects:
            if ref.s3_upload_id:
                await self._store.abort_multipart(ref.object_key, ref.s3_upload_id)
        await self._store.delete(ref.object_key for ref in objects if not ref.s3_upload_id)

    async def stale_objects(self, older_than_seconds: int, start_after: str | None, limit: int) -> StaleObjects:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        listed = await self._store.list_objects(start_after, limit)
        return StaleObjects(
            keys=[o.key for o in listed if o.last_modified < cutoff],
            next_start_after=listed[-1].key if len(listed) == limit else None,
        )

    async def stale_multipart_uploads(self, older_than_seconds: int) -> list[StaleMultipartUpload]:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        return [
            StaleMultipartUpload(key=u.key, upload_id=u.upload_id)
            for u in await self._store.list_multipart_uploads()
            if u.initiated < cutoff
        ]

    async def check(self) -> None:
        await self._store.check()
