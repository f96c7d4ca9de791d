"""tus requests as a test sends them: create, ask the offset, append, and append then cut."""

from __future__ import annotations

import base64
import socket
import time
from urllib.parse import urlsplit

import httpx

from liftbit_common.rules import MiB
from scripts.stack.info import StackInfo
from tests.support.users import User

TUS = {"Tus-Resumable": "1.0.0"}


def metadata(filename: str) -> str:
    encoded = base64.b64encode(filename.encode()).decode()
    return f"filename {encoded},filetype {base64.b64encode(b'application/x-test').decode()}"


def create(api: httpx.Client, user: User, filename: str, length: int) -> str:
    response = api.post(
        "/uploads/", headers=user.auth | TUS | {"Upload-Length": str(length), "Upload-Metadata": metadata(filename)}
    )
    assert response.status_code == 201, response.text
    assert response.headers["tus-resumable"] == "1.0.0"
    assert response.headers["upload-expires"]
    return str(response.headers["location"])


def offset_of(api: httpx.Client, user: User, location: str) -> int:
    head = api.head(location, headers=user.auth | TUS)
    assert head.status_code == 200, head.status_code
    assert head.headers["cache-control"] == "no-store"
    return int(head.headers["upload-offset"])


def patch(api: httpx.Client, user: User, location: str, offset: int, body: bytes, **headers: str) -> httpx.Response:
    return api.patch(
        location,
        content=body,
        headers=user.auth
        | TUS
        | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        | headers,
    )


def cut_patch(stack: StackInfo, user: User, location: str, offset: int, body: bytes) -> None:
    """Send a PATCH announcing more than ``body``, then drop the connection (a cut network)."""
    url = urlsplit(location)
    head = (
        f"PATCH {url.path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {user.token}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(body) + 10 * MiB}\r\n\r\n"
    ).encode()
    target = urlsplit(stack.url)
    with socket.create_connection((target.hostname, target.port)) as connection:
        connection.sendall(head + body)
        time.sleep(0.3)
    # closing without the rest of the body
