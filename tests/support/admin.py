"""Helpers of the administration tests, for both tiers: log in, invite, register with an invite,
API tokens as users of their own."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.users import User, unique_name

PASSWORD = "correct horse battery"


def log_in(client: httpx.Client, name: str, password: str) -> User:
    login = client.post("/auth/token", data={"username": name, "password": password})
    assert login.status_code == 200, login.text
    return User(name=name, password=password, token=login.json()["access_token"])


def invite(client: httpx.Client, admin: User, **options: Any) -> dict[str, Any]:
    created = client.post("/admin/invites", json=options, headers=admin.auth)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    assert set(body) >= {"id", "token", "expires_at"}, body
    return body


def register_invited(client: httpx.Client, token: str, name: str | None = None) -> User:
    name = name or unique_name("inv")
    created = client.post("/users", json={"username": name, "password": PASSWORD, "invite": token})
    assert created.status_code == 201, created.text
    return log_in(client, name, PASSWORD)


def api_token(client: httpx.Client, user: User, scope: str, name: str = "script") -> tuple[User, dict[str, Any]]:
    """The user acting through a new API token of ``scope``, and the creation answer."""
    created = client.post(f"/users/{user.name}/api-tokens", json={"name": name, "scope": scope}, headers=user.auth)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    assert (body["name"], body["scope"]) == (name, scope)
    return User(name=user.name, password=user.password, token=body["token"]), body
