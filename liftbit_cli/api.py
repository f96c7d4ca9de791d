"""LiftBit's public API over one pooled httpx client; every failure becomes a one-line CliError."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from liftbit_cli.errors import CliError, ExitCode
from liftbit_common.contracts import FileInfo, FilePage, IssuedToken, UserInfo

TUS_HEADERS = {"Tus-Resumable": "1.0.0"}
FILE_LIST = TypeAdapter(list[FileInfo])
NAMES = TypeAdapter(list[str])

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
    from liftbit_common.errors import ErrorResponse

    try:
        return ErrorResponse.model_validate_json(response.read()).error.message
    except (ValidationError, httpx.StreamError):
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

    def user(self, username: str) -> UserInfo:
        return UserInfo.model_validate_json(self.send("GET", f"/users/{username}", username).content)

    # files
    def files(self, owner: str) -> Iterator[FileInfo]:
        cursor: str | None = None
        while True:
            params = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
            page = FilePage.model_validate_json(self.send("GET", f"/users/{owner}/files", owner, params=params).content)
            yield from page.items
            cursor = page.next_cursor
            if not cursor:
                return

    def info(self, owner: str, path: str) -> FileInfo:
        response = self.send("GET", f"/users/{owner}/files/{remote_path(path)}/info", path)
        return FileInfo.model_validate_json(response.content)

    def delete(self, owner: str, path: str) -> None:
        self.send("DELETE", f"/users/{owner}/files/{remote_path(path)}", path)

    def shared_with(self, username: str) -> list[FileInfo]:
        return FILE_LIST.validate_json(self.send("GET", f"/users/{username}/shared", username).content)

    # grants
    def grant(self, owner: str, path: str, grantee: str) -> None:
        self.send("PUT", f"/users/{owner}/files/{remote_path(path)}/permissions/{grantee}", f"{path} → {grantee}")

    def revoke(self, owner: str, path: str, grantee: str) -> None:
        self.send("DELETE", f"/users/{owner}/files/{remote_path(path)}/permissions/{grantee}", f"{path} → {grantee}")

    def grantees(self, owner: str, path: str) -> list[str]:
        return NAMES.validate_json(
            self.send("GET", f"/users/{owner}/files/{remote_path(path)}/permissions", path).content
        )

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
