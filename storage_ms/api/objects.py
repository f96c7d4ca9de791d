"""Object bytes in and out. Keys are opaque names chosen by files_ms, never user filenames."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, status
from pydantic import Field

from liftbit_common.contracts import (
    AppendedParts,
    MultipartCompletion,
    MultipartStarted,
    ObjectRefs,
    PresignedUrl,
    Sha256Hex,
    StaleMultipartUpload,
    StaleObjects,
    WrittenObject,
)
from liftbit_common.errors import BadRequest
from storage_ms.api.deps import Objects
from storage_ms.streams import CHECKSUM_ALGORITHMS, StreamMeter

router = APIRouter(tags=["objects"])

ObjectKey = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


def parse_upload_checksum(header: str | None) -> tuple[str, bytes] | None:
    """tus ``Upload-Checksum: <algorithm> <base64 digest>``."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadRequest(f"checksum algorithm {algorithm!r} is not supported", code="unsupported_checksum")
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise BadRequest("Upload-Checksum digest is not base64", code="invalid_checksum") from exc


@router.put("/objects/{key}")
async def write(
    key: ObjectKey,
    request: Request,
    objects: Objects,
    content_type: str = "application/octet-stream",
    max_bytes: Annotated[int | None, Query(ge=0)] = None,
    expected_size: Annotated[int | None, Query(ge=0)] = None,
    expected_sha256: Sha256Hex | None = None,
) -> WrittenObject:
    meter = StreamMeter(max_bytes=max_bytes, expected_size=expected_size, expected_sha256=expected_sha256)
    return await objects.write(key, request.stream(), content_type=content_type, meter=meter)


@router.get("/objects/{key}/url")
async def presigned_url(key: ObjectKey, content_type: str, content_disposition: str, objects: Objects) -> PresignedUrl:
    return PresignedUrl(url=objects.presign(key, content_type=content_type, content_disposition=content_disposition))


@router.post("/objects/delete", status_code=status.HTTP_204_NO_CONTENT)
async def delete(body: ObjectRefs, objects: Objects) -> None:
    await objects.delete(body.objects)


@router.get("/objects/stale")
async def stale_objects(
    objects: Objects,
    older_than_seconds: Annotated[int, Query(ge=0)],
    start_after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> StaleObjects:
    return await objects.stale_objects(older_than_seconds, start_after, limit)


@router.post("/multipart/{key}")
async def start_multipart(key: ObjectKey, objects: Objects, content_type: str) -> MultipartStarted:
    return MultipartStarted(upload_id=await objects.start_multipart(key, content_type))


@router.patch("/multipart/{key}")
async def append_parts(
    key: ObjectKey,
    request: Request,
    objects: Objects,
    upload_id: str,
    offset: Annotated[int, Query(ge=0)],
    length: Annotated[int, Query(ge=0)],
    part_size: Annotated[int, Query(gt=0)],
    tail_key: str | None = None,
    upload_checksum: Annotated[str | None, Header()] = None,
) -> AppendedParts:
    meter = StreamMeter(max_bytes=length - offset, checksum=parse_upload_checksum(upload_checksum))
    return await objects.append_parts(
        key,
        upload_id,
        request.stream(),
        offset=offset,
        length=length,
        part_size=part_size,
        tail_key=tail_key,
        meter=meter,
    )


@router.post("/multipart/{key}/complete")
async def complete_multipart(key: ObjectKey, body: MultipartCompletion, objects: Objects) -> WrittenObject:
    return await objects.complete_multipart(key, body.upload_id, body.parts)


@router.get("/multipart/stale")
async def stale_multipart_uploads(
    objects: Objects, older_than_seconds: Annotated[int, Query(ge=0)]
) -> list[StaleMultipartUpload]:
    return await objects.stale_multipart_uploads(older_than_seconds)
