"""Accounts for tests: unique names, registration and login through the public API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx


@dataclass
class User:
    name: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def register(client: httpx.Client, name: str | None = None, password: str = "correct horse battery") -> User:
    name = name or unique_name()
    created = client.post("/users", json={"username": name, "password": password})
    assert created.status_code == 201, created.text
    login = client.post("/auth/token", data={"username": name, "password": password})
    assert login.status_code == 200, login.text
    return User(name=name, password=password, token=login.json()["access_token"])
