"""Object bytes in and out. Keys are opaque names chosen by files_ms, never user filenames."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Query, Request

from liftbit_common.contracts import (
    AppendedParts,
    MultipartCompletion,
    MultipartStarted,
    ObjectRefs,
    PresignedUrl,
    StaleMultipartUpload,
    StaleObjects,
    WrittenObject,
)
from liftbit_common.errors import BadRequest, ErrorCode
from liftbit_common.internal_api import storage as api
from liftbit_common.internal_api.route import serve
from liftbit_common.rules import CHECKSUM_ALGORITHMS, ObjectKey
from storage_ms.api.deps import Objects
from storage_ms.streams import StreamMeter

router = APIRouter(tags=["objects"])


def parse_upload_checksum(header: str | None) -> tuple[str, bytes] | None:
    """tus ``Upload-Checksum: <algorithm> <base64 digest>``."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadRequest(f"checksum algorithm {algorithm!r} is not supported", code=ErrorCode.UNSUPPORTED_CHECKSUM)
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise BadRequest("Upload-Checksum digest is not base64", code=ErrorCode.INVALID_CHECKSUM) from exc


@serve(router, api.WRITE_OBJECT)
async def write(
    key: ObjectKey, query: Annotated[api.WriteOptions, Query()], request: Request, objects: Objects
) -> WrittenObject:
    meter = StreamMeter(
        max_bytes=query.max_bytes, expected_size=query.expected_size, expected_sha256=query.expected_sha256
    )
    return await objects.write(key, request.stream(), content_type=query.content_type, meter=meter)


@serve(router, api.PRESIGN)
async def presigned_url(key: ObjectKey, query: Annotated[api.PresignQuery, Query()], objects: Objects) -> PresignedUrl:
    url = objects.presign(key, content_type=query.content_type, content_disposition=query.content_disposition)
    return PresignedUrl(url=url)


@serve(router, api.DELETE_OBJECTS)
async def delete(body: ObjectRefs, objects: Objects) -> None:
    await objects.delete(body.objects)


@serve(router, api.STALE_OBJECTS)
async def stale_objects(query: Annotated[api.StaleObjectsQuery, Query()], objects: Objects) -> StaleObjects:
    return await objects.stale_objects(query.older_than_seconds, query.start_after, query.limit)


@serve(router, api.START_MULTIPART)
async def start_multipart(
    key: ObjectKey, query: Annotated[api.MultipartStart, Query()], objects: Objects
) -> MultipartStarted:
    return MultipartStarted(upload_id=await objects.start_multipart(key, query.content_type))


@serve(router, api.APPEND_PARTS)
async def append_parts(
    key: ObjectKey, query: Annotated[api.AppendQuery, Query()], request: Request, objects: Objects
) -> AppendedParts:
    meter = StreamMeter(max_bytes=query.length - query.offset, checksum=parse_upload_checksum(query.upload_checksum))
    return await objects.append_parts(
        key,
        query.upload_id,
        request.stream(),
        offset=query.offset,
        length=query.length,
        part_size=query.part_size,
        tail_key=query.tail_key,
        meter=meter,
    )


@serve(router, api.COMPLETE_MULTIPART)
async def complete_multipart(key: ObjectKey, body: MultipartCompletion, objects: Objects) -> WrittenObject:
    return await objects.complete_multipart(key, body.upload_id, body.parts)


@serve(router, api.STALE_MULTIPART)
async def stale_multipart_uploads(
    query: Annotated[api.StaleMultipartQuery, Query()], objects: Objects
) -> list[StaleMultipartUpload]:
    return await objects.stale_multipart_uploads(query.older_than_seconds)
