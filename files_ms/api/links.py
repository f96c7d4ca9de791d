"""Share links: revoking one (its owner), and what a recipient without an account gets under
``/s/{token}``: a page for people (file, folder listing, password form) and the bytes, served by
nginx from S3 exactly like an owner's download. The rules are in files_ms.service.links."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from files_ms.api.deps import CurrentUser, FilenamePath, FilesServices, Services, client_address
from files_ms.api.files import FORM_BODY, DownloadConditions, download_response, head_response, store_form_file
from files_ms.api.uploads import TUS_ERRORS, tus_router
from files_ms.service.files import Conditions, Uploader
from files_ms.service.links import LinkService, OpenedLink, Recipient
from liftbit_common.contracts import FileInfo, FolderInfo, StoredFile
from liftbit_common.errors import ErrorCode, LiftbitError, error_responses
from liftbit_common.names import InvalidName, normalize_path

router = APIRouter(tags=["share links"])
PASS_COOKIE = "liftbit_link_pass"
TICKET_COOKIE = "liftbit_link_ticket"
PAGE_SIZE = 200
MAX_PASSWORD_CHARACTERS = 1024
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")

RECIPIENT_ERRORS = error_responses(401, 403, 404, 410, 412, 416, 422, 429, 503)
# The page answers people: its errors are pages too, with the status of the error.
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    status_code: {"content": {"text/html": {}}, "description": description}
    for status_code, description in {
        400: "An upload form that is not multipart/form-data",
        401: "A wrong password (the form again, saying so)",
        403: "An upload to a link that takes none",
        404: "No such link",
        409: "An upload's path runs into a file where a folder should be",
        410: "Revoked, expired, used up, or its file was deleted",
        413: "An upload over the owner's quota or the size limit",
        422: "A path that cannot be below the folder",
        429: "Too many wrong passwords",
        503: "A dependency is unavailable",
    }.items()
}
BYTES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes"},
    206: {"description": "The requested range"},
    304: {"description": "Not modified (If-None-Match)"},
}


@router.delete(
    "/links/{link_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 404, 422, 503),
)
async def revoke_link(link_id: str, actor: CurrentUser, services: Services) -> None:
    """Revoke one of your links: from now on it answers 410 (a download already running finishes)."""
    await services.links.revoke(actor, link_id)


def recipient(
    token: str,
    request: Request,
    x_link_password: Annotated[
        str | None, Header(description="The link's password, for scripts (browsers use the page's form)")
    ] = None,
) -> Recipient:
    return Recipient(
        token=token,
        address=client_address(request),
        password=x_link_password,
        pass_cookie=request.cookies.get(PASS_COOKIE),
        ticket_cookie=request.cookies.get(TICKET_COOKIE),
    )


LinkRecipient = Annotated[Recipient, Depends(recipient)]


async def link_uploader(who: LinkRecipient, services: Services) -> Uploader:
    """A file request's recipient uploads into the link's folder, on its owner's quota."""
    opened = await services.links.open(who, use="upload")
    folder = opened.folder()
    assert folder is not None  # metadata_ms makes upload-only links on folders only
    return Uploader(owner=opened.resolved.link.owner, folder=folder.path, link_id=opened.link_id)


upload_router = tus_router(
    "/s/{token}/uploads", ["share links"], link_uploader, {**TUS_ERRORS, **error_responses(403, 410)}
)


def set_link_cookie(
    response: Response, request: Request, links: LinkService, token: str, name: str, value: str
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=links.cookies.max_age_seconds,
        path=f"/s/{token}",  # this link's pages and bytes only
        httponly=True,
        samesite="strict",
        secure=request.headers.get("x-forwarded-proto") == "https",
    )


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def render(request: Request, status_code: int, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "link_page.html", {"human_size": human_size, **context}, status_code=status_code
    )


def folder_entries(opened: OpenedLink, items: list[FileInfo | FolderInfo]) -> list[dict[str, Any]]:
    """The listing as the recipient sees it: paths below the linked folder, nothing above it."""
    folder = opened.folder()
    assert folder is not None
    start = len(folder.path) + 1
    return [
        {"name": item.filename if isinstance(item, FileInfo) else item.name, "path": item.path[start:], "node": item}
        for item in items
    ]


@router.get("/s/{token}", response_class=HTMLResponse, responses=PAGE_ERRORS)
async def link_page(
    token: str,
    request: Request,
    who: LinkRecipient,
    services: Services,
    path: Annotated[str | None, Query(description="A folder below a linked folder")] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The recipient's page: the file with a download button, or the folder's listing, or the
    password form. Errors are pages too (a person reads them)."""
    try:
        path = normalize_path(path) if path else None
    except InvalidName as error:
        return render(request, 422, token=token, error=str(error))
    try:
        opened = await services.links.open(who)
    except LiftbitError as error:
        if error.code == ErrorCode.LINK_PASSWORD_REQUIRED:
            return render(request, 200, token=token, needs_password=True)
        if error.code == ErrorCode.UPLOAD_ONLY_LINK:
            return render(request, 200, token=token, upload_only=True)
        return render(request, error.status_code, token=token, error=error.message)
    if opened.folder() is None:
        return render(request, 200, token=token, file=opened.resolved.node.node)
    try:
        page = await services.links.children(opened, path, PAGE_SIZE, cursor)
    except LiftbitError as error:
        return render(request, error.status_code, token=token, error=error.message)
    crumbs = path.split("/") if path else []
    return render(
        request,
        200,
        token=token,
        folder=opened.folder(),
        entries=folder_entries(opened, page.items),
        crumbs=[("/".join(crumbs[: i + 1]), name) for i, name in enumerate(crumbs)],
        path=path,
        next_cursor=page.next_cursor,
    )


@router.post("/s/{token}", response_class=HTMLResponse, responses=PAGE_ERRORS)
async def link_password(
    token: str,
    request: Request,
    who: LinkRecipient,
    services: Services,
    password: Annotated[str | None, Form()] = None,
) -> Response:
    """The page's password form: right, and a cookie for this link stands for the password for a
    while (HttpOnly, SameSite=Strict, the link's path only); wrong, and the form again with why."""
    if not password or len(password) > MAX_PASSWORD_CHARACTERS:
        # Checked here rather than by FastAPI, whose 422 would be JSON, not a page.
        return render(request, 422, token=token, needs_password=True, error="enter the link's password")
    try:
        opened = await services.links.open(
            Recipient(token=token, address=who.address, password=password, ticket_cookie=who.ticket_cookie),
            use="either",
        )
    except LiftbitError as error:
        needs_password = error.code in (ErrorCode.WRONG_LINK_PASSWORD, ErrorCode.LINK_PASSWORD_REQUIRED)
        return render(request, error.status_code, token=token, needs_password=needs_password, error=error.message)
    answer = RedirectResponse(f"/s/{token}", status_code=status.HTTP_303_SEE_OTHER)
    cookie = services.links.cookies.issue(opened.link_id, "pass")
    set_link_cookie(answer, request, services.links, token, PASS_COOKIE, cookie)
    return answer


@router.post("/s/{token}/upload", response_class=HTMLResponse, responses=PAGE_ERRORS, openapi_extra=FORM_BODY)
async def link_form_upload(token: str, request: Request, who: LinkRecipient, services: Services) -> Response:
    """A file request's form on its page, for browsers without scripts (tus under
    /s/{token}/uploads/ resumes; this does not): the file lands in the folder, then the page again."""
    try:
        uploader = await link_uploader(who, services)
    except LiftbitError as error:
        return render(request, error.status_code, token=token, error=error.message)
    try:
        result = await store_form_file(request, services, uploader)
    except InvalidName as error:
        return render(request, 422, token=token, upload_only=True, error=str(error))
    except LiftbitError as error:
        return render(request, error.status_code, token=token, upload_only=True, error=error.message)
    return render(request, 200, token=token, upload_only=True, received=result.file.filename)


async def serve_link_file(
    token: str, request: Request, opened: OpenedLink, file: StoredFile, conditions: Conditions, services: FilesServices
) -> Response:
    answer = await services.links.download(opened, file, conditions)
    response = download_response(answer.download)
    if answer.counted:
        ticket = services.links.cookies.issue(opened.link_id, "ticket")
        set_link_cookie(response, request, services.links, token, TICKET_COOKIE, ticket)
    return response


@router.get("/s/{token}/download", response_class=Response, responses={**BYTES, **RECIPIENT_ERRORS})
async def link_download(
    token: str, request: Request, who: LinkRecipient, services: Services, conditions: DownloadConditions
) -> Response:
    """The linked file's bytes, streamed from S3 by nginx (Range, ETag, 304 as for owners). Counts
    against `max_downloads` when it asks for the whole file or a range from byte 0."""
    opened = await services.links.open(who)
    return await serve_link_file(token, request, opened, await services.links.file(opened, None), conditions, services)


@router.head("/s/{token}/download", response_class=Response, include_in_schema=False)
async def link_head(who: LinkRecipient, services: Services) -> Response:
    opened = await services.links.open(who)
    return head_response(await services.links.file(opened, None))


@router.get("/s/{token}/files/{path:path}", response_class=Response, responses={**BYTES, **RECIPIENT_ERRORS})
async def link_folder_download(
    token: str,
    path: FilenamePath,
    request: Request,
    who: LinkRecipient,
    services: Services,
    conditions: DownloadConditions,
) -> Response:
    """A file below a linked folder, by its path inside that folder."""
    opened = await services.links.open(who)
    return await serve_link_file(token, request, opened, await services.links.file(opened, path), conditions, services)


@router.head("/s/{token}/files/{path:path}", response_class=Response, include_in_schema=False)
async def link_folder_head(path: FilenamePath, who: LinkRecipient, services: Services) -> Response:
    opened = await services.links.open(who)
    return head_response(await services.links.file(opened, path))
