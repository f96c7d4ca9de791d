"""Checks and requests that many tests make through the public API."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import httpx

from tests.support.users import User


def error_of(response: httpx.Response) -> tuple[str, str]:
    """The (code, message) of an error answer, after checking it has the one error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) >= {"code", "message"}, body
    return body["error"]["code"], body["error"]["message"]


def put(api: httpx.Client, user: User, name: str, body: bytes, **headers: str) -> httpx.Response:
    """A raw PUT of ``body`` as ``user``'s file ``name``."""
    return api.put(f"/users/{user.name}/files/{quote(name, safe='')}", content=body, headers=user.auth | headers)


def content(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that are not all one byte, the same for the same seed."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]
