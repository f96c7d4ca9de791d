"""tus 1.0 resumable uploads into the caller's namespace (Upload-Metadata ``path`` or ``filename`` names the file)."""

from __future__ import annotations

import uuid
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from files_ms.api.deps import CurrentUser, Services, resumable_body
from files_ms.service.resumable import TUS_CHECKSUM_ALGORITHMS, TUS_EXTENSIONS, TUS_VERSION
from liftbit_common.contracts import UploadState
from liftbit_common.errors import BadRequest, LiftbitError, PreconditionFailed, error_responses


class UnsupportedMediaType(LiftbitError):
    status_code, code = 415, "unsupported_media_type"


async def require_tus_version(tus_resumable: Annotated[str | None, Header()] = None) -> None:
    if tus_resumable != TUS_VERSION:
        raise PreconditionFailed(
            f"send Tus-Resumable: {TUS_VERSION}", code="tus_version", headers={"Tus-Version": TUS_VERSION}
        )


router = APIRouter(prefix="/uploads", tags=["resumable uploads (tus)"])
TUS_ERRORS = error_responses(400, 401, 404, 409, 412, 413, 422, 503)


def upload_headers(upload: UploadState) -> dict[str, str]:
    return {
        "Upload-Offset": str(upload.progress.offset),
        "Upload-Expires": format_datetime(upload.expires_at, usegmt=True),
        "Cache-Control": "no-store",
    }


@router.options("/", status_code=status.HTTP_204_NO_CONTENT)
@router.options("", status_code=status.HTTP_204_NO_CONTENT, include_in_schema=False)
@router.options("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, include_in_schema=False)
async def capabilities(services: Services) -> Response:
    """tus discovery: version, extensions, maximum size and checksum algorithms."""
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Checksum-Algorithm": TUS_CHECKSUM_ALGORITHMS,
            "Tus-Max-Size": str(services.files.max_file_size),
        },
    )


@router.post("/", status_code=status.HTTP_201_CREATED, response_class=Response, responses=TUS_ERRORS)
@router.post("", status_code=status.HTTP_201_CREATED, response_class=Response, include_in_schema=False)
async def create(
    request: Request,
    actor: CurrentUser,
    services: Services,
    upload_length: Annotated[int | None, Header(ge=0)] = None,
    upload_metadata: Annotated[
        str | None, Header(description="filename <base64> (may be a path) or path <base64>[,filetype <base64>]")
    ] = None,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """Start a resumable upload (tus creation); Location names it."""
    await require_tus_version(tus_resumable)
    if upload_length is None:
        raise BadRequest("Upload-Length is required (deferred length is not supported)", code="length_required")
    upload = await services.uploads.create(actor, upload_length, upload_metadata)
    location = str(request.url_for("upload_status", upload_id=upload.id))
    return Response(status_code=status.HTTP_201_CREATED, headers={"Location": location, **upload_headers(upload)})


@router.head("/{upload_id}", response_class=Response, responses=TUS_ERRORS, name="upload_status")
async def status_of(
    upload_id: uuid.UUID,
    actor: CurrentUser,
    services: Services,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """How many bytes the upload holds (Upload-Offset)."""
    await require_tus_version(tus_resumable)
    upload = await services.uploads.status(actor, upload_id)
    headers = upload_headers(upload) | {"Upload-Length": str(upload.length)}
    if upload.metadata_header:
        headers["Upload-Metadata"] = upload.metadata_header
    return Response(status_code=status.HTTP_200_OK, headers=headers)


@router.patch(
    "/{upload_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        **TUS_ERRORS,
        415: {"description": "Content-Type must be application/offset+octet-stream"},
        460: {"description": "Upload-Checksum mismatch"},
    },
    openapi_extra={
        "requestBody": {
            "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        }
    },
)
async def append(
    upload_id: uuid.UUID,
    request: Request,
    actor: CurrentUser,
    services: Services,
    upload_offset: Annotated[int, Header(ge=0)],
    upload_checksum: Annotated[str | None, Header(description="<algorithm> <base64 digest> of this body")] = None,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """Append the body at Upload-Offset; the upload becomes a file when the last byte arrives."""
    await require_tus_version(tus_resumable)
    if request.headers.get("content-type") != "application/offset+octet-stream":
        raise UnsupportedMediaType("Content-Type must be application/offset+octet-stream")
    upload = await services.uploads.append(
        actor, upload_id, upload_offset, resumable_body(request), upload_checksum=upload_checksum
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=upload_headers(upload))


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=TUS_ERRORS)
async def terminate(
    upload_id: uuid.UUID,
    actor: CurrentUser,
    services: Services,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """Abandon the upload (tus termination); what it stored is removed."""
    await require_tus_version(tus_resumable)
    await services.uploads.terminate(actor, upload_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class TusResumableHeader:
    """ASGI middleware: every answer under /uploads, errors included, carries Tus-Resumable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(router.prefix):
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"tus-resumable", TUS_VERSION.encode())]
            await send(message)

        await self.app(scope, receive, send_with_version)
