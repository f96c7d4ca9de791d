"""LiftBit's public API over one pooled httpx client; every failure becomes a one-line CliError."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from liftbit_cli.errors import CliError, ExitCode
from liftbit_common.contracts import (
    AdminUser,
    ApiTokenInfo,
    AuditEntry,
    CreatedApiToken,
    CreatedInvite,
    CreatedLink,
    CreatedReset,
    DeletionReport,
    FileInfo,
    FilePage,
    FolderInfo,
    IssuedToken,
    LinkInfo,
    Move,
    NewApiToken,
    NewInvite,
    NewLink,
    NodeInfo,
    NodePage,
    NodeStats,
    PasswordChange,
    PasswordReset,
    PlatformStats,
    Role,
    TokenOwner,
    TrashEntry,
    TrashPage,
    UserInfo,
    UserStats,
    VersionInfo,
)

TUS_HEADERS = {"Tus-Resumable": "1.0.0"}
NODE = TypeAdapter[FileInfo | FolderInfo](NodeInfo)
NODE_LIST = TypeAdapter(list[NodeInfo])
VERSION_LIST = TypeAdapter(list[VersionInfo])
NAMES = TypeAdapter(list[str])
LINK_LIST = TypeAdapter(list[LinkInfo])
ADMIN_USERS = TypeAdapter(list[AdminUser])
AUDIT = TypeAdapter(list[AuditEntry])
API_TOKENS = TypeAdapter(list[ApiTokenInfo])


class PageCursor(BaseModel):
    """What every paginated list has in common."""

    next_cursor: str | None = None


EXIT_CODE_OF_STATUS = {
    400: ExitCode.USAGE,
    401: ExitCode.AUTH,
    403: ExitCode.AUTH,
    404: ExitCode.NOT_FOUND,
    409: ExitCode.CONFLICT,
    410: ExitCode.NOT_FOUND,
    412: ExitCode.CONFLICT,
    413: ExitCode.TOO_LARGE,
    422: ExitCode.USAGE,
    429: ExitCode.AUTH,
}


def server_message(response: httpx.Response) -> str:
    """The message of LiftBit's one error shape, or the status line for anything else (e.g. nginx's 502 page)."""
    # Imported here: liftbit_common.errors pulls in FastAPI (~1 s to import), which only an error needs.
    from liftbit_common.errors import ErrorResponse, TokenErrorResponse

    try:
        body = response.read()
    except httpx.StreamError:
        return f"HTTP {response.status_code} {response.reason_phrase}".strip()
    # POST /auth/token answers in RFC 6749's shape, LiftBit's error object inside liftbit_error.
    for shape in (ErrorResponse, TokenErrorResponse):
        try:
            parsed = shape.model_validate_json(body)
        except ValidationError:
            continue
        return parsed.error.message if isinstance(parsed, ErrorResponse) else parsed.liftbit_error.message
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def remote_path(path: str) -> str:
    """A file's path as it goes into a URL (each segment quoted, folders kept)."""
    return quote(path, safe="/")


def tus_metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


class Api:
    """One LiftBit server, with or without a bearer token; thread-safe (parallel transfers share it)."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.signed_in = token is not None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Reads may wait on a slow S3 behind the server (bounded by its own ~11 s and 30 s timeouts).
        self.http = httpx.Client(base_url=url, headers=headers, timeout=httpx.Timeout(120, connect=10))

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()

    def send(self, method: str, path: str, subject: str, **options: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **options)
        except httpx.TransportError as exc:
            raise self.unreachable(exc) from exc
        if response.is_error:
            raise self.error_for(response, subject)
        return response

    def error_for(self, response: httpx.Response, subject: str) -> CliError:
        """The CliError for a refused request about ``subject`` (a file name, a user, 'login failed')."""
        status = response.status_code
        message = server_message(response)
        if status == 401 and self.signed_in:
            return CliError(ExitCode.AUTH, f"not logged in to {self.url} or the session expired: run `liftbit login`")
        if status >= 500:
            return CliError(ExitCode.UNAVAILABLE, f"{subject}: LiftBit is unavailable, try again shortly ({message})")
        return CliError(EXIT_CODE_OF_STATUS.get(status, ExitCode.USAGE), f"{subject}: {message}")

    def stream(self, method: str, path: str, **options: Any) -> AbstractContextManager[httpx.Response]:
        return self.http.stream(method, path, **options)

    def unreachable(self, exc: httpx.TransportError) -> CliError:
        return CliError(ExitCode.UNAVAILABLE, f"cannot reach LiftBit at {self.url}: {exc or type(exc).__name__}")

    # accounts
    def login(self, username: str, password: str) -> IssuedToken:
        response = self.send("POST", "/auth/token", "login failed", data={"username": username, "password": password})
        return IssuedToken.model_validate_json(response.content)

    def logout(self) -> None:
        self.send("POST", "/auth/logout", "logout")

    def me(self) -> TokenOwner:
        return TokenOwner.model_validate_json(self.send("GET", "/auth/me", "the token").content)

    def reset_password(self, reset: PasswordReset) -> None:
        self.send("POST", "/auth/reset", "the reset code", json=reset.model_dump())

    def change_password(self, username: str, change: PasswordChange) -> None:
        self.send("POST", f"/users/{username}/password", username, json=change.model_dump())

    def create_api_token(self, username: str, new: NewApiToken) -> CreatedApiToken:
        body = new.model_dump(mode="json")
        return CreatedApiToken.model_validate_json(
            self.send("POST", f"/users/{username}/api-tokens", new.name, json=body).content
        )

    def api_tokens(self, username: str) -> list[ApiTokenInfo]:
        return API_TOKENS.validate_json(self.send("GET", f"/users/{username}/api-tokens", username).content)

    def revoke_api_token(self, username: str, token_id: str) -> None:
        self.send("DELETE", f"/users/{username}/api-tokens/{quote(token_id, safe='')}", token_id)

    def admin_users(self) -> list[AdminUser]:
        return ADMIN_USERS.validate_json(self.send("GET", "/admin/users", "users").content)

    def set_quota(self, username: str, quota_bytes: int | None) -> AdminUser:
        response = self.send("PUT", f"/admin/users/{username}/quota", username, json={"quota_bytes": quota_bytes})
        return AdminUser.model_validate_json(response.content)

    def set_role(self, username: str, role: Role) -> AdminUser:
        response = self.send("PUT", f"/admin/users/{username}/role", username, json={"role": role})
        return AdminUser.model_validate_json(response.content)

    def set_disabled(self, username: str, *, disabled: bool) -> None:
        self.send("POST", f"/admin/users/{username}/{'disable' if disabled else 'enable'}", username)

    def delete_user(self, username: str) -> DeletionReport:
        return DeletionReport.model_validate_json(self.send("DELETE", f"/admin/users/{username}", username).content)

    def invite(self, invite: NewInvite) -> CreatedInvite:
        body = invite.model_dump(mode="json", exclude_none=True)
        return CreatedInvite.model_validate_json(self.send("POST", "/admin/invites", "invite", json=body).content)

    def issue_reset(self, username: str) -> CreatedReset:
        return CreatedReset.model_validate_json(self.send("POST", f"/admin/users/{username}/reset", username).content)

    def audit(self, limit: int) -> list[AuditEntry]:
        return AUDIT.validate_json(self.send("GET", "/admin/audit", "audit", params={"limit": limit}).content)

    def platform_stats(self) -> PlatformStats:
        return PlatformStats.model_validate_json(self.send("GET", "/admin/stats", "stats").content)

    def user(self, username: str) -> UserInfo:
        return UserInfo.model_validate_json(self.send("GET", f"/users/{username}", username).content)

    # files and folders
    def files(self, owner: str, *, prefix: str | None = None, query: str | None = None) -> Iterator[FileInfo]:
        """Every file (in all folders), by path; below ``prefix`` only, names containing ``query`` only."""
        filters = {"prefix": prefix, "q": query}
        params = {"limit": 1000} | {name: value for name, value in filters.items() if value}
        for page in self.pages(f"/users/{owner}/files", owner, params):
            yield from FilePage.model_validate_json(page).items

    def children(self, owner: str, folder: str | None) -> Iterator[FileInfo | FolderInfo]:
        """The files and folders directly inside ``folder`` (None: the top), by name."""
        url = f"/users/{owner}/folders" + (f"/{remote_path(folder)}" if folder else "")
        for page in self.pages(url, folder or owner, {"limit": 1000}):
            yield from NodePage.model_validate_json(page).items

    def pages(self, url: str, subject: str, params: dict[str, str | int]) -> Iterator[bytes]:
        """The bodies of every page of a cursor-paginated list."""
        cursor: str | None = None
        while True:
            body = self.send("GET", url, subject, params=params | ({"cursor": cursor} if cursor else {})).content
            yield body
            cursor = PageCursor.model_validate_json(body).next_cursor
            if not cursor:
                return

    def make_folder(self, owner: str, path: str) -> FolderInfo:
        return FolderInfo.model_validate_json(
            self.send("PUT", f"/users/{owner}/folders/{remote_path(path)}", path).content
        )

    def delete_folder(self, owner: str, path: str) -> None:
        self.send("DELETE", f"/users/{owner}/folders/{remote_path(path)}", path)

    def move(self, owner: str, source: str, target: str) -> FileInfo | FolderInfo:
        body = Move(from_=source, to=target).model_dump(by_alias=True)
        return NODE.validate_json(self.send("POST", f"/users/{owner}/move", f"{source} → {target}", json=body).content)

    # the trash
    def trash(self, owner: str) -> Iterator[TrashEntry]:
        for page in self.pages(f"/users/{owner}/trash", "trash", {"limit": 1000}):
            yield from TrashPage.model_validate_json(page).items

    def restore(self, owner: str, entry: TrashEntry) -> FileInfo | FolderInfo:
        return NODE.validate_json(self.send("POST", f"/users/{owner}/trash/{entry.id}/restore", entry.path).content)

    def purge(self, owner: str, entry: TrashEntry | None) -> None:
        """Delete one trash entry for good, or (None) empty the trash."""
        self.send(
            "DELETE", f"/users/{owner}/trash" + (f"/{entry.id}" if entry else ""), entry.path if entry else "trash"
        )

    # versions
    def versions(self, file: FileInfo) -> list[VersionInfo]:
        return VERSION_LIST.validate_json(self.send("GET", f"/files/{file.id}/versions", file.path).content)

    def restore_version(self, file: FileInfo, version: int) -> FileInfo:
        response = self.send("POST", f"/files/{file.id}/versions/{version}/restore", f"{file.path} version {version}")
        return FileInfo.model_validate_json(response.content)

    def info(self, owner: str, path: str) -> FileInfo:
        response = self.send("GET", f"/users/{owner}/files/{remote_path(path)}/info", path)
        return FileInfo.model_validate_json(response.content)

    def node(self, owner: str, path: str) -> FileInfo | FolderInfo:
        """The file or folder at ``path``: a file's info route, else the folder among its parent's children
        (there is no info route for folders)."""
        try:
            return self.info(owner, path)
        except CliError as exc:
            if exc.exit_code != ExitCode.NOT_FOUND:
                raise
        parent, _, name = path.strip("/").rpartition("/")
        try:
            for child in self.children(owner, parent or None):
                if isinstance(child, FolderInfo) and child.name == name:
                    return child
        except CliError as exc:
            if exc.exit_code != ExitCode.NOT_FOUND:  # no parent folder: no such path either
                raise
        raise CliError(ExitCode.NOT_FOUND, f"{path}: no such file or folder")

    def delete(self, owner: str, path: str) -> None:
        self.send("DELETE", f"/users/{owner}/files/{remote_path(path)}", path)

    def shared_with(self, username: str, query: str | None = None) -> list[FileInfo | FolderInfo]:
        params = {"q": query} if query else {}
        return NODE_LIST.validate_json(self.send("GET", f"/users/{username}/shared", username, params=params).content)

    # grants
    def grant(self, owner: str, path: str, grantee: str) -> None:
        self.send("PUT", f"/users/{owner}/files/{remote_path(path)}/permissions/{grantee}", f"{path} → {grantee}")

    def revoke(self, owner: str, path: str, grantee: str) -> None:
        self.send("DELETE", f"/users/{owner}/files/{remote_path(path)}/permissions/{grantee}", f"{path} → {grantee}")

    def grantees(self, owner: str, path: str) -> list[str]:
        return NAMES.validate_json(
            self.send("GET", f"/users/{owner}/files/{remote_path(path)}/permissions", path).content
        )

    # share links and download statistics
    def create_link(self, node: FileInfo | FolderInfo, link: NewLink) -> CreatedLink:
        body = link.model_dump(mode="json", exclude_none=True)
        created = CreatedLink.model_validate_json(
            self.send("POST", f"/files/{node.id}/links", node.path, json=body).content
        )
        # Absolute, whatever the server sends: the URL is for pasting into a mail or a browser.
        return created.model_copy(update={"url": str(httpx.URL(self.url).join(created.url))})

    def links(self, node: FileInfo | FolderInfo) -> list[LinkInfo]:
        return LINK_LIST.validate_json(self.send("GET", f"/files/{node.id}/links", node.path).content)

    def revoke_link(self, link_id: str) -> None:
        self.send("DELETE", f"/links/{quote(link_id, safe='')}", f"link {link_id}")

    def node_stats(self, node: FileInfo | FolderInfo, window: dict[str, str]) -> NodeStats:
        response = self.send("GET", f"/files/{node.id}/stats", node.path, params=window)
        return NodeStats.model_validate_json(response.content)

    def user_stats(self, username: str, window: dict[str, str], limit: int) -> UserStats:
        response = self.send("GET", f"/users/{username}/stats", username, params=window | {"limit": str(limit)})
        return UserStats.model_validate_json(response.content)

    # tus 1.0 resumable uploads
    def tus_create(self, path: str, length: int, content_type: str) -> str:
        headers = TUS_HEADERS | {
            "Upload-Length": str(length),
            "Upload-Metadata": tus_metadata(filename=path, filetype=content_type),
        }
        response = self.send("POST", "/uploads/", path, headers=headers)
        return str(httpx.URL(self.url).join(response.headers["Location"]))

    def tus_offset(self, location: str, path: str) -> int | None:
        """Bytes the server holds of the upload; None when it is gone (finished, expired or removed)."""
        try:
            response = self.http.head(location, headers=TUS_HEADERS)
        except httpx.TransportError as exc:
            raise self.unreachable(exc) from exc
        if response.status_code in (404, 410):
            return None
        if response.is_error:
            raise self.error_for(response, path)
        return int(response.headers["Upload-Offset"])

    def tus_append(self, location: str, path: str, offset: int, body: Iterable[bytes], length: int) -> None:
        headers = TUS_HEADERS | {
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(length),  # one request for the whole rest: no round trip per chunk
        }
        self.send("PATCH", location, path, headers=headers, content=body)
