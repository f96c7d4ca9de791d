"""Answer an error while the request body is still arriving without losing the answer, and
without leaving the client a connection that is about to close.

A small rest of the body (up to ``drain_first_bytes``, arriving within ``drain_first_seconds``
and without a pause of ``drain_first_idle_seconds``: a silent client, as the one answered 408,
is not waited for) is read and dropped before the error goes
out: the answer then follows a whole request, and every hop keeps its connection. nginx in
particular answers "Connection: keep-alive" and then closes when it answers before it has read the
whole body; a client that reused that connection lost its next request ("disconnected without a
response", 4 in 300 refused 5 MiB uploads on a loaded machine).

A larger or slow rest (401 before a 60 GiB upload) is not waited for: the answer goes out whole at
once, marked ``Connection: close``. Closing a socket with unread bytes makes TCP reset it, and a
peer (nginx, or files_ms calling storage_ms) that has not yet read the answer then loses it and
reports a gateway error instead: so the connection stays open, its incoming bytes read and
dropped, for a short linger after the answer left (the same idea as nginx's lingering_close), then
closes."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024


class AnswerErrorsEarly:
    def __init__(
        self,
        app: ASGIApp,
        drain_first_bytes: int = 16 * MiB,
        drain_first_seconds: float = 5.0,
        drain_first_idle_seconds: float = 0.5,
        linger_bytes: int = 64 * MiB,
        linger_seconds: float = 1.0,
    ) -> None:
        self.app = app
        self.drain_first_bytes = drain_first_bytes
        self.drain_first_seconds = drain_first_seconds
        self.drain_first_idle_seconds = drain_first_idle_seconds
        self.linger_bytes = linger_bytes
        self.linger_seconds = linger_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        received = 0
        body_done = False
        answering_early = False

        async def tracking_receive() -> Message:
            nonlocal body_done, received
            message = await receive()
            received += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def early_send(message: Message) -> None:
            nonlocal answering_early
            if message["type"] == "http.response.start" and message["status"] >= 400 and not body_done:
                if declared is not None and declared - received <= self.drain_first_bytes:
                    await read_rest(
                        tracking_receive, declared - received, self.drain_first_seconds, self.drain_first_idle_seconds
                    )
                if not body_done:
                    answering_early = True
                    message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            elif answering_early and message["type"] == "http.response.body" and not message.get("more_body"):
                await send({**message, "more_body": True})  # the whole answer leaves now…
                await read_rest(tracking_receive, self.linger_bytes, self.linger_seconds)  # …read before the close
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, tracking_receive, early_send)


async def read_rest(receive: Receive, most_bytes: int, most_seconds: float, idle_seconds: float | None = None) -> None:
    """Read and drop the body for at most ``most_seconds`` and about ``most_bytes``, and no longer
    than ``idle_seconds`` without a piece of it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + most_seconds
    drained = 0
    with contextlib.suppress(TimeoutError):
        while drained <= most_bytes:
            wait = deadline - loop.time() if idle_seconds is None else min(deadline - loop.time(), idle_seconds)
            async with asyncio.timeout(max(wait, 0)):
                message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length; 0 without one or a Transfer-Encoding (a GET: no body to
    wait for, so its 404 keeps the connection); None when unknown (chunked, or not a number)."""
    length: int | None = 0
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
        if name == b"transfer-encoding":
            length = None
    return length
