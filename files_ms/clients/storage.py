"""Typed calls to storage_ms, over the routes liftbit_common.internal_api.storage defines; object
bodies stream through without being held."""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence

from liftbit_common.contracts import (
    AppendedParts,
    MultipartCompletion,
    ObjectRef,
    ObjectRefs,
    StaleMultipartUpload,
    StaleObjects,
    UploadPart,
    UploadState,
    WrittenObject,
)
from liftbit_common.internal_api import storage as api
from liftbit_common.service_client import ServiceClient

# A stream of several GiB runs for minutes; what times out is a stall, not the total.
STREAM_TIMEOUT_SECONDS = 120.0


class StorageClient:
    def __init__(self, client: ServiceClient) -> None:
        self.http = client

    async def health_checks(self) -> dict[str, str]:
        return await self.http.health_checks()

    async def write(self, key: str, body: AsyncIterable[bytes], options: api.WriteOptions) -> WrittenObject:
        return await self.http.stream(api.WRITE_OBJECT, options, body, timeout=STREAM_TIMEOUT_SECONDS, key=key)

    async def presigned_url(self, key: str, *, content_type: str, content_disposition: str) -> str:
        query = api.PresignQuery(content_type=content_type, content_disposition=content_disposition)
        return (await self.http.call(api.PRESIGN, query, key=key)).url

    async def delete(self, objects: Sequence[ObjectRef]) -> None:
        if objects:
            await self.http.call(api.DELETE_OBJECTS, ObjectRefs(objects=list(objects)))

    async def start_multipart(self, key: str, content_type: str) -> str:
        return (
            await self.http.call(api.START_MULTIPART, api.MultipartStart(content_type=content_type), key=key)
        ).upload_id

    async def append_parts(
        self, upload: UploadState, body: AsyncIterable[bytes], *, upload_checksum: str | None
    ) -> AppendedParts:
        query = api.AppendQuery(
            upload_id=upload.s3_upload_id,
            offset=upload.progress.offset,
            length=upload.length,
            part_size=upload.part_size,
            tail_key=upload.progress.tail_key,
            upload_checksum=upload_checksum,
        )
        return await self.http.stream(
            api.APPEND_PARTS, query, body, timeout=STREAM_TIMEOUT_SECONDS, key=upload.object_key
        )

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[UploadPart]) -> WrittenObject:
        completion = MultipartCompletion(upload_id=upload_id, parts=list(parts))
        # Completing reads the object back to hash it: allow for a large file.
        return await self.http.call(api.COMPLETE_MULTIPART, completion, timeout=STREAM_TIMEOUT_SECONDS * 10, key=key)

    async def stale_objects(self, older_than_seconds: int, start_after: str | None) -> StaleObjects:
        query = api.StaleObjectsQuery(older_than_seconds=older_than_seconds, start_after=start_after)
        return await self.http.call(api.STALE_OBJECTS, query)

    async def stale_multipart_uploads(self, older_than_seconds: int) -> list[StaleMultipartUpload]:
        query = api.StaleMultipartQuery(older_than_seconds=older_than_seconds)
        return await self.http.call(api.STALE_MULTIPART, query)
