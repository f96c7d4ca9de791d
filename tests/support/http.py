"""Checks and requests that many tests make through the public API."""

from __future__ import annotations

import hashlib
import socket
import time
from urllib.parse import quote, urlsplit

import httpx

from liftbit_common.errors import STATUS_CODES, ErrorCode
from tests.support.users import User


def token_error_of(response: httpx.Response) -> tuple[str, str, str]:
    """The (OAuth2 error, LiftBit code, message) of a failed POST /auth/token, after checking the
    RFC 6749 §5.2 shape: error and error_description, LiftBit's error object in liftbit_error."""
    body = response.json()
    assert set(body) == {"error", "error_description", "liftbit_error"}, body
    code = body["liftbit_error"]["code"]
    assert code in codes_for(response.status_code), f"{code!r} is not a catalogued code of {response.status_code}"
    assert body["error_description"] == body["liftbit_error"]["message"]
    return body["error"], code, body["error_description"]


def error_of(response: httpx.Response) -> tuple[str, str]:
    """The (code, message) of an error answer, after checking it has the one error shape and a
    code the catalogue lists for its status."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) >= {"code", "message"}, body
    code = body["error"]["code"]
    assert code in codes_for(response.status_code), f"{code!r} is not a catalogued code of {response.status_code}"
    return code, body["error"]["message"]


def codes_for(status_code: int) -> tuple[ErrorCode, ...]:
    return STATUS_CODES[status_code][1] if status_code in STATUS_CODES else ()


def put(api: httpx.Client, user: User, name: str, body: bytes, **headers: str) -> httpx.Response:
    """A raw PUT of ``body`` as ``user``'s file ``name``."""
    return api.put(f"/users/{user.name}/files/{quote(name, safe='')}", content=body, headers=user.auth | headers)


def content(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that are not all one byte, the same for the same seed."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def read_answer(connection: socket.socket) -> bytes:
    """One whole HTTP/1.1 answer (a Content-Length body) from ``connection``, or what came before
    it closed."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        if not (chunk := connection.recv(65536)):
            return answer
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length and (chunk := connection.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


def raw_exchange(base_url: str, request: bytes, *, read_seconds: float = 20) -> tuple[bytes, float]:
    """Send ``request`` on a fresh connection as it is (it may announce more body than it holds,
    then fall silent) and read the answer, up to the end of its JSON body: the answer and the
    seconds it took."""
    url = urlsplit(base_url)
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=read_seconds) as connection:
        connection.sendall(request)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return answer, time.monotonic() - started
