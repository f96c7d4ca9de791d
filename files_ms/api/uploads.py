"""tus 1.0 resumable uploads into the caller's namespace (Upload-Metadata ``path`` or ``filename``
names the file), and into a file-request link's folder under /s/{token}/uploads.

No ``from __future__ import annotations`` here: the handlers are defined inside tus_router, and
FastAPI must see their annotations (the uploader dependency is a closure variable) as objects."""

import re
import uuid
from collections.abc import Awaitable, Callable
from email.utils import format_datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from files_ms.api.deps import CurrentUser, Services, fell_silent, public_base_url, resumable_body
from files_ms.service.files import Uploader
from files_ms.service.resumable import TUS_EXTENSIONS, TUS_VERSION
from liftbit_common.contracts import UploadState
from liftbit_common.errors import (
    BadRequest,
    ErrorCode,
    PreconditionFailed,
    RequestTimeout,
    UnsupportedMediaType,
    error_responses,
)
from liftbit_common.rules import CHECKSUM_ALGORITHMS


async def require_tus_version(tus_resumable: Annotated[str | None, Header()] = None) -> None:
    if tus_resumable != TUS_VERSION:
        raise PreconditionFailed(
            f"send Tus-Resumable: {TUS_VERSION}", code=ErrorCode.TUS_VERSION, headers={"Tus-Version": TUS_VERSION}
        )


TUS_ERRORS = error_responses(400, 401, 404, 408, 409, 412, 413, 422, 429, 503)
UploaderDependency = Callable[..., Awaitable[Uploader]]


def upload_headers(upload: UploadState) -> dict[str, str]:
    return {
        "Upload-Offset": str(upload.progress.offset),
        "Upload-Expires": format_datetime(upload.expires_at, usegmt=True),
        "Cache-Control": "no-store",
    }


def tus_router(prefix: str, tags: list[str], who: UploaderDependency, errors: dict[int | str, Any]) -> APIRouter:
    """tus 1.0 under ``prefix`` for the uploader ``who`` names: the signed-in user (/uploads), or
    the recipient of a file-request link (/s/{token}/uploads). The same handlers serve both."""
    router = APIRouter(prefix=prefix, tags=list[str | Enum](tags))
    status_route = f"{prefix}/status"
    Who = Annotated[Uploader, Depends(who)]

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
                "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
                "Tus-Max-Size": str(services.files.max_file_size),
            },
        )

    @router.post("/", status_code=status.HTTP_201_CREATED, response_class=Response, responses=errors)
    @router.post("", status_code=status.HTTP_201_CREATED, response_class=Response, include_in_schema=False)
    async def create(
        request: Request,
        uploader: Who,
        services: Services,
        upload_length: Annotated[int | None, Header(ge=0)] = None,
        upload_metadata: Annotated[
            str | None,
            Header(
                description="filename <base64> (may be a path) or path <base64>[,filetype <base64>]"
                "[,uploader <base64>: your name, through a file request]"
            ),
        ] = None,
        tus_resumable: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Start a resumable upload (tus creation); Location names it."""
        await require_tus_version(tus_resumable)
        if upload_length is None:
            raise BadRequest(
                "Upload-Length is required (deferred length is not supported)", code=ErrorCode.LENGTH_REQUIRED
            )
        upload = await services.uploads.create(uploader, upload_length, upload_metadata)
        path = request.app.url_path_for(status_route, **request.path_params, upload_id=str(upload.id))
        location = public_base_url(request, services.public_url) + path
        return Response(status_code=status.HTTP_201_CREATED, headers={"Location": location, **upload_headers(upload)})

    @router.head("/{upload_id}", response_class=Response, responses=errors, name=status_route)
    async def status_of(
        upload_id: uuid.UUID,
        uploader: Who,
        services: Services,
        tus_resumable: Annotated[str | None, Header()] = None,
    ) -> Response:
        """How many bytes the upload holds (Upload-Offset)."""
        await require_tus_version(tus_resumable)
        upload = await services.uploads.status(uploader, upload_id)
        headers = upload_headers(upload) | {"Upload-Length": str(upload.length)}
        if upload.metadata_header:
            headers["Upload-Metadata"] = upload.metadata_header
        return Response(status_code=status.HTTP_200_OK, headers=headers)

    @router.patch(
        "/{upload_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        responses={**errors, **error_responses(415, 460)},
        openapi_extra={
            "requestBody": {
                "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}
            }
        },
    )
    async def append(
        upload_id: uuid.UUID,
        request: Request,
        uploader: Who,
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
            uploader, upload_id, upload_offset, resumable_body(request), upload_checksum=upload_checksum
        )
        if fell_silent(request):
            raise RequestTimeout(
                f"the client stopped sending; the {upload.progress.offset} bytes received so far are kept, "
                "resume from Upload-Offset",
                headers=upload_headers(upload),
            )
        return Response(status_code=status.HTTP_204_NO_CONTENT, headers=upload_headers(upload))

    @router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=errors)
    async def terminate(
        upload_id: uuid.UUID,
        uploader: Who,
        services: Services,
        tus_resumable: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Abandon the upload (tus termination); what it stored is removed."""
        await require_tus_version(tus_resumable)
        await services.uploads.terminate(uploader, upload_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


async def signed_in_uploader(actor: CurrentUser) -> Uploader:
    return Uploader(owner=actor)


router = tus_router("/uploads", ["resumable uploads (tus)"], signed_in_uploader, TUS_ERRORS)
# Where tus answers: under /uploads, and under a share link's /s/{token}/uploads.
TUS_PATH = re.compile(r"^(/uploads|/s/[^/]+/uploads)(/|$)")


# Headers tus requires: in the schema as required, while a request without them still gets the
# tus answer (412 for Tus-Resumable, 400 for Upload-Length) rather than a generic 422.
REQUIRED_HEADERS = {"tus-resumable", "upload-length", "upload-metadata", "upload-offset"}


def publish_required_headers(schema: dict[str, Any]) -> dict[str, Any]:
    """Mark tus's required headers required in the OpenAPI schema of every /uploads operation."""
    for path, operations in schema.get("paths", {}).items():
        if not TUS_PATH.match(path):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and parameter["name"] in REQUIRED_HEADERS:
                    parameter["required"] = True
                    if parameter["name"] == "tus-resumable":
                        parameter["schema"] = {"type": "string", "enum": [TUS_VERSION]}
    return schema


class TusResumableHeader:
    """ASGI middleware: every answer under /uploads, errors included, carries Tus-Resumable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not TUS_PATH.match(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"tus-resumable", TUS_VERSION.encode())]
            await send(message)

        await self.app(scope, receive, send_with_version)
