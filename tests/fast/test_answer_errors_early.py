"""AnswerErrorsEarly: an error decided while the body still arrives reads a small rest first
(the connection goes on) and answers a large one at once (the connection closes)."""

from __future__ import annotations

import asyncio
import time

from starlette.types import Message, Receive, Scope, Send

from liftbit_common.drain import AnswerErrorsEarly, MiB


async def refuse_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()  # the first piece only, as a route that checks the headers and then refuses
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}", "more_body": False})


def exchange(declared: int, pieces: int, piece_size: int) -> tuple[list[Message], int]:
    """The messages sent for a request announcing ``declared`` bytes and sending ``pieces`` of
    them before it falls silent, and how many times the body was read."""
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        read += 1
        if read > pieces:
            await asyncio.sleep(3600)  # a client that went silent
        return {"type": "http.request", "body": b"x" * piece_size, "more_body": read * piece_size < declared}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [(b"content-length", str(declared).encode())]}
    middleware = AnswerErrorsEarly(refuse_at_once, drain_first_idle_seconds=0.2, linger_seconds=0.2)
    asyncio.run(middleware(scope, receive, send))
    return sent, read


def test_a_small_refused_body_is_read_before_the_answer_which_keeps_the_connection() -> None:
    sent, read = exchange(declared=5 * MiB, pieces=80, piece_size=64 * 1024)
    assert read == 80
    start = sent[0]
    assert start["status"] == 413 and (b"connection", b"close") not in start["headers"]
    assert b"".join(message.get("body", b"") for message in sent[1:]) == b"{}"


def test_a_large_refused_body_is_answered_at_once_and_the_connection_closes() -> None:
    sent, read = exchange(declared=60 * 1024 * MiB, pieces=60 * 1024, piece_size=MiB)
    assert sent[0]["status"] == 413 and (b"connection", b"close") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b"{}", "more_body": True}  # before any linger
    assert 1 < read < 100  # lingered for about 64 MiB, not the whole body


def test_a_small_body_that_stops_coming_is_answered_after_a_short_pause_and_closes() -> None:
    started = time.monotonic()
    sent, read = exchange(declared=5 * MiB, pieces=3, piece_size=64 * 1024)
    assert time.monotonic() - started < 1  # the pause (0.2 s) and the linger (0.2 s), not 5 s
    assert sent[0]["status"] == 413 and (b"connection", b"close") in sent[0]["headers"]
    assert read == 5  # three pieces, then a wait for the rest before the answer and one after it


async def refuse_unread(scope: Scope, receive: Receive, send: Send) -> None:
    """A route that never asks for the body (a GET's 404)."""
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"{}", "more_body": False})


def test_an_error_to_a_request_without_a_body_keeps_the_connection() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    for headers in ([], [(b"content-length", b"0")]):  # no body announced, an empty one
        sent.clear()
        asyncio.run(AnswerErrorsEarly(refuse_unread)({"type": "http", "headers": headers}, receive, send))
        assert sent[0]["status"] == 404 and (b"connection", b"close") not in sent[0]["headers"]
