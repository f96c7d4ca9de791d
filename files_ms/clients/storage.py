"""Typed calls to storage_ms; object bodies stream through without being held."""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence

from liftbit_common.contracts import (
    AppendedParts,
    MultipartStarted,
    ObjectRef,
    PresignedUrl,
    StaleMultipartUpload,
    StaleObjects,
    UploadPart,
    UploadState,
    WrittenObject,
)
from liftbit_common.service_client import ServiceClient

# A stream of several GiB runs for minutes; what times out is a stall, not the total.
STREAM_TIMEOUT_SECONDS = 120.0


class StorageClient:
    def __init__(self, client: ServiceClient) -> None:
        self.http = client

    async def write(
        self,
        key: str,
        body: AsyncIterable[bytes],
        *,
        content_type: str,
        max_bytes: int | None,
        expected_size: int | None,
        expected_sha256: str | None,
    ) -> WrittenObject:
        params = {"content_type": content_type}
        for name, value in (
            ("max_bytes", max_bytes),
            ("expected_size", expected_size),
            ("expected_sha256", expected_sha256),
        ):
            if value is not None:
                params[name] = str(value)
        async with self.http.stream(
            "PUT", f"/objects/{key}", content=body, params=params, timeout=STREAM_TIMEOUT_SECONDS
        ) as response:
            return WrittenObject.model_validate_json(await response.aread())

    async def presigned_url(self, key: str, *, content_type: str, content_disposition: str) -> str:
        params = {"content_type": content_type, "content_disposition": content_disposition}
        return (await self.http.fetch(PresignedUrl, "GET", f"/objects/{key}/url", params=params)).url

    async def delete(self, objects: Sequence[ObjectRef]) -> None:
        if objects:
            payload = {"objects": [o.model_dump() for o in objects]}
            await self.http.call("POST", "/objects/delete", json=payload)

    async def start_multipart(self, key: str, content_type: str) -> str:
        started = await self.http.fetch(
            MultipartStarted, "POST", f"/multipart/{key}", params={"content_type": content_type}
        )
        return started.upload_id

    async def append_parts(
        self, upload: UploadState, body: AsyncIterable[bytes], *, upload_checksum: str | None
    ) -> AppendedParts:
        params = {
            "upload_id": upload.s3_upload_id,
            "offset": str(upload.progress.offset),
            "length": str(upload.length),
            "part_size": str(upload.part_size),
        }
        if upload.progress.tail_key:
            params["tail_key"] = upload.progress.tail_key
        headers = {"Upload-Checksum": upload_checksum} if upload_checksum else None
        async with self.http.stream(
            "PATCH",
            f"/multipart/{upload.object_key}",
            content=body,
            params=params,
            headers=headers,
            timeout=STREAM_TIMEOUT_SECONDS,
        ) as response:
            return AppendedParts.model_validate_json(await response.aread())

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[UploadPart]) -> WrittenObject:
        payload = {"upload_id": upload_id, "parts": [p.model_dump() for p in parts]}
        # Completing reads the object back to hash it: allow for a large file.
        path = f"/multipart/{key}/complete"
        return await self.http.fetch(WrittenObject, "POST", path, json=payload, timeout=STREAM_TIMEOUT_SECONDS * 10)

    async def stale_objects(self, older_than_seconds: int, start_after: str | None) -> StaleObjects:
        params = {"older_than_seconds": str(older_than_seconds)} | ({"start_after": start_after} if start_after else {})
        return await self.http.fetch(StaleObjects, "GET", "/objects/stale", params=params)

    async def stale_multipart_uploads(self, older_than_seconds: int) -> list[StaleMultipartUpload]:
        params = {"older_than_seconds": str(older_than_seconds)}
        return await self.http.fetch(list[StaleMultipartUpload], "GET", "/multipart/stale", params=params)
