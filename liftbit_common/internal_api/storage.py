"""storage_ms's routes: object bytes in (streamed), presigned URLs out, deletion and stale listings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

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
from liftbit_common.internal_api.route import Route

ByteCount = Annotated[int, Field(ge=0)]


class WriteOptions(BaseModel):
    """The content type to store, and the limits the body must keep."""

    content_type: str = "application/octet-stream"
    max_bytes: ByteCount | None = Field(None, description="Refuse the body past this many bytes (413)")
    expected_size: ByteCount | None = Field(None, description="Content-Length the client declared")
    expected_sha256: Sha256Hex | None = None


class PresignQuery(BaseModel):
    content_type: str
    content_disposition: str


class StaleObjectsQuery(BaseModel):
    older_than_seconds: ByteCount
    start_after: str | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 1000


class MultipartStart(BaseModel):
    content_type: str


class AppendQuery(BaseModel):
    upload_id: str
    offset: ByteCount
    length: ByteCount
    part_size: Annotated[int, Field(gt=0)]
    tail_key: str | None = None
    upload_checksum: str | None = Field(None, description="tus Upload-Checksum of this body: <algorithm> <base64>")


class StaleMultipartQuery(BaseModel):
    older_than_seconds: ByteCount


WRITE_OBJECT: Route[WriteOptions, WrittenObject] = Route(
    "PUT", "/objects/{key}", WriteOptions, WrittenObject, request_in="query", streams_body=True
)
PRESIGN: Route[PresignQuery, PresignedUrl] = Route(
    "GET", "/objects/{key}/url", PresignQuery, PresignedUrl, request_in="query"
)
DELETE_OBJECTS: Route[ObjectRefs, None] = Route("POST", "/objects/delete", ObjectRefs)
STALE_OBJECTS: Route[StaleObjectsQuery, StaleObjects] = Route(
    "GET", "/objects/stale", StaleObjectsQuery, StaleObjects, request_in="query"
)
START_MULTIPART: Route[MultipartStart, MultipartStarted] = Route(
    "POST", "/multipart/{key}", MultipartStart, MultipartStarted, request_in="query"
)
APPEND_PARTS: Route[AppendQuery, AppendedParts] = Route(
    "PATCH", "/multipart/{key}", AppendQuery, AppendedParts, request_in="query", streams_body=True
)
COMPLETE_MULTIPART: Route[MultipartCompletion, WrittenObject] = Route(
    "POST", "/multipart/{key}/complete", MultipartCompletion, WrittenObject
)
STALE_MULTIPART: Route[StaleMultipartQuery, list[StaleMultipartUpload]] = Route(
    "GET", "/multipart/stale", StaleMultipartQuery, list[StaleMultipartUpload], request_in="query"
)
