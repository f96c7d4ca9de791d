"""Answer an error at once while the request body is still arriving, then close the connection
without losing the answer.

An error decided while a body still streams in (401 before an upload, 413 for a 60 GiB
Content-Length) must not wait for the body: the answer goes out whole at once, marked
``Connection: close``. Closing a socket with unread bytes makes TCP reset it, and a peer (nginx,
or files_ms calling storage_ms) that has not yet read the answer then loses it and reports a
gateway error instead: so the connection stays open, its incoming bytes read and dropped, for a
short linger after the answer left (the same idea as nginx's lingering_close), then closes."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024


class AnswerErrorsEarly:
    def __init__(self, app: ASGIApp, linger_bytes: int = 64 * MiB, linger_seconds: float = 1.0) -> None:
        self.app = app
        self.linger_bytes = linger_bytes
        self.linger_seconds = linger_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        answering_early = False

        async def tracking_receive() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def early_send(message: Message) -> None:
            nonlocal answering_early
            if message["type"] == "http.response.start" and message["status"] >= 400 and not body_done:
                answering_early = True
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            elif answering_early and message["type"] == "http.response.body" and not message.get("more_body"):
                await send({**message, "more_body": True})  # the whole answer leaves now…
                await self._linger(tracking_receive)  # …and is read before the connection closes
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, tracking_receive, early_send)

    async def _linger(self, receive: Receive) -> None:
        drained = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.linger_seconds):
                while drained <= self.linger_bytes:
                    message = await receive()
                    if message["type"] != "http.request":
                        return
                    drained += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        return
