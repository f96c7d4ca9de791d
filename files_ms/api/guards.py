"""Requests refused before any route sees them."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from liftbit_common.errors import ErrorCode, error_json


class RefuseUndecodablePath:
    """ASGI middleware: a path whose percent-escapes are not UTF-8 (``%FF%FE``) is 422. The
    server would decode it with replacement characters, so two different names would become
    the same file."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
            try:
                unquote_to_bytes(raw_path).decode("utf-8")
            except UnicodeDecodeError:
                response = error_json(422, ErrorCode.INVALID_INPUT, "the path is not valid UTF-8 once percent-decoded")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
