"""Answer an error only after the request body that is still arriving has been read (and dropped).

An error decided while a body still streams in (413 mid-upload) would otherwise be sent and the
connection closed on unread bytes: TCP then resets it, and the peer (nginx, or files_ms calling
storage_ms) may lose the answer and report a gateway error instead of the 413. Draining is bounded
in bytes and time; past the bounds the answer goes out anyway."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024


class DrainBeforeError:
    def __init__(self, app: ASGIApp, max_bytes: int = 256 * MiB, max_seconds: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def tracking_receive() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def draining_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400 and not body_done:
                await self._drain(tracking_receive)
            await send(message)

        await self.app(scope, tracking_receive, draining_send)

    async def _drain(self, receive: Receive) -> None:
        drained = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.max_seconds):
                while drained <= self.max_bytes:
                    message = await receive()
                    if message["type"] != "http.request":
                        return
                    drained += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        return
