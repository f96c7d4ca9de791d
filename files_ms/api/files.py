"""Files in a user's namespace by path: upload (raw or form), download through nginx, list and
search, delete (to the trash). ``{filename}`` is a path: ``photos/2024/a.jpg``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from files_ms.api.deps import (
    ByteReader,
    CurrentUser,
    FilenamePath,
    FilesServices,
    Services,
    arriving_body,
    passed_on,
    request_body,
)
from files_ms.api.multipart import open_form_file
from files_ms.service.access import AccessPolicy
from files_ms.service.files import Conditions, Download, Uploader, representation_headers
from files_ms.service.http_semantics import expected_sha256, stored_media_type
from liftbit_common.contracts import CommitResult, FileInfo, FilePage, Username
from liftbit_common.errors import BadRequest, LengthRequired, error_responses
from liftbit_common.names import normalize_path

router = APIRouter(prefix="/users/{username}/files", tags=["files"])

RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes. Content-Type is stored and served back.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
# 404: the user or a parent folder was deleted meanwhile; 409: the path (or a parent) is of
# the other kind, or a concurrent upload of the same path won.
UPLOAD_ERRORS = error_responses(400, 401, 403, 404, 408, 409, 411, 413, 422, 503)


def upload_response(file: FileInfo, created: bool) -> JSONResponse:
    return JSONResponse(
        file.model_dump(mode="json"), status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


@router.get("", response_model=FilePage, responses=error_responses(401, 403, 404, 422, 503))
async def list_files(
    username: Username,
    actor: CurrentUser,
    services: Services,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    prefix: Annotated[
        str | None, AfterValidator(normalize_path), Query(description="Only files below this folder")
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=255, description="Only files whose name contains this, any case")
    ] = None,
) -> Response:
    """Your files (in every folder), by path (byte order), a page at a time; filtered by folder
    (`prefix`) and by a case-insensitive part of the name (`q`)."""
    return passed_on(await services.files.list_files(actor, username, limit, cursor, prefix=prefix, query=q))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FileInfo,
    responses={200: {"model": FileInfo, "description": "Replaced"}, **UPLOAD_ERRORS},
    openapi_extra=FORM_BODY,
)
async def upload_form(username: Username, request: Request, actor: CurrentUser, services: Services) -> JSONResponse:
    """Upload (multipart form, field `file`); the part's filename names the file and may be a path
    (`photos/a.jpg`). 201 new, 200 replaced."""
    AccessPolicy.require_self(actor, username)  # before a byte of the body is read
    result = await store_form_file(request, services, Uploader(owner=username))
    return upload_response(result.file, result.created)


async def store_form_file(request: Request, services: FilesServices, uploader: Uploader) -> CommitResult:
    """The form's ``file`` field, streamed into storage: its part's filename (a path, maybe)
    names it, below the uploader's folder if it has one."""
    form = await open_form_file(request.headers.get("content-type"), arriving_body(request))
    path = uploader.path_of(form.filename)
    return await services.files.store(
        uploader,
        path,
        form.body,
        content_type=stored_media_type(form.content_type, path),
        declared_size=None,
        expected_sha256=None,
    )


@router.get("/{filename:path}/info", responses=error_responses(401, 404, 422, 503))
async def describe(username: Username, filename: FilenamePath, actor: CurrentUser, services: Services) -> FileInfo:
    """The FileInfo of a file you own or were granted (no bytes, no download event)."""
    return (await services.files.describe(actor, username, filename)).public()


@router.put(
    "/{filename:path}",
    status_code=status.HTTP_201_CREATED,
    response_model=FileInfo,
    responses={200: {"model": FileInfo, "description": "Replaced"}, **UPLOAD_ERRORS},
    openapi_extra=RAW_BODY,
)
async def upload_raw(
    username: Username,
    filename: FilenamePath,
    request: Request,
    actor: CurrentUser,
    services: Services,
    x_checksum_sha256: Annotated[
        str | None, Header(description="Expected SHA-256 (hex or base64); a mismatch is refused with 400")
    ] = None,
    repr_digest: Annotated[str | None, Header(description="RFC 9530, e.g. sha-256=:<base64>:")] = None,
) -> JSONResponse:
    """Upload the raw body as this file: 201 when new, 200 when it replaced a file (atomically; the
    old content is kept as a version). Missing folders are created. Without a Content-Type (or
    with curl's default `application/x-www-form-urlencoded`) the type is guessed from the name."""
    result = await services.files.upload(
        actor,
        username,
        filename,
        request_body(request),
        content_type=stored_media_type(request.headers.get("content-type"), filename, raw_body=True),
        declared_size=declared_length(request),
        expected_sha256=expected_sha256(x_checksum_sha256, repr_digest),
    )
    return upload_response(result.file, result.created)


def declared_length(request: Request) -> int | None:
    """Content-Length, None for a chunked body; 411 when the request has no body at all."""
    header = request.headers.get("content-length")
    if header is None:
        if "transfer-encoding" not in request.headers:
            raise LengthRequired("send the file as the body (Content-Length: 0 for an empty file)")
        return None
    if not header.isdigit():
        raise BadRequest("Content-Length must be a number of bytes")
    return int(header)


async def download_conditions(
    range: Annotated[str | None, Header(description="bytes=a-b, bytes=a- or bytes=-n")] = None,
    if_range: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Conditions:
    return Conditions(range=range, if_range=if_range, if_match=if_match, if_none_match=if_none_match)


DownloadConditions = Annotated[Conditions, Depends(download_conditions)]


def accel_location(object_url: str) -> str:
    """nginx's internal location fetching a presigned URL: /_s3/<scheme>/<host>/<path>?<query>."""
    parts = urlsplit(object_url)
    return f"/_s3/{parts.scheme}/{parts.netloc}{parts.path}?{parts.query}"


def download_response(download: Download) -> Response:
    if download.object_url is None:  # 304 Not Modified
        return Response(status_code=download.status, headers=download.headers)
    # nginx keeps some headers of this answer (Content-Disposition, Cache-Control, Accept-Ranges)
    # next to S3's, which already carries them: send only what S3 cannot know.
    headers = {"ETag": download.headers["ETag"], "X-Accel-Redirect": accel_location(download.object_url)}
    if download.byte_range is not None:
        headers["X-Liftbit-Range"] = download.byte_range.header_value()
    return Response(status_code=status.HTTP_200_OK, headers=headers)


@router.get(
    "/{filename:path}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes"},
        206: {"description": "The requested range"},
        304: {"description": "Not modified (If-None-Match)"},
        **error_responses(401, 404, 412, 416, 422, 503),
    },
)
async def download(
    username: Username,
    filename: FilenamePath,
    actor: ByteReader,
    services: Services,
    conditions: DownloadConditions,
) -> Response:
    """Download a file you own or were granted. The bytes stream from S3 through nginx. The
    web app's download cookie (`POST /auth/session`) is accepted here in place of the bearer header."""
    return download_response(await services.files.download(actor, username, filename, conditions))


@router.head("/{filename:path}", response_class=Response, include_in_schema=False)
async def head(username: Username, filename: FilenamePath, actor: ByteReader, services: Services) -> Response:
    return head_response(await services.files.describe(actor, username, filename))


def head_response(file: FileInfo) -> Response:
    headers = representation_headers(file) | {"Content-Length": str(file.size), "Content-Type": file.content_type}
    return Response(status_code=status.HTTP_200_OK, headers=headers)


@router.delete(
    "/{filename:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def delete(username: Username, filename: FilenamePath, actor: CurrentUser, services: Services) -> None:
    """Move your file to the trash (`GET /users/{username}/trash` lists it, restore brings it back)."""
    await services.files.delete(actor, username, filename)
