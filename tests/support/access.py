"""The access rules as one table (every endpoint × owner, grantee, stranger, anonymous), checked
by both tiers: in-process against the fakes (tests/fast) and end to end (tests/e2e)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.support.users import User, register, unique_name

OWNER, GRANTEE, STRANGER, ANONYMOUS = "owner", "grantee", "stranger", "anonymous"
ROLES = (OWNER, GRANTEE, STRANGER, ANONYMOUS)


@dataclass(frozen=True)
class AccessWorld:
    owner: User
    grantee: User
    stranger: User
    upload_location: str

    def headers(self, role: str) -> dict[str, str]:
        users = {OWNER: self.owner, GRANTEE: self.grantee, STRANGER: self.stranger}
        return users[role].auth if role in users else {}


def build_world(client: httpx.Client) -> AccessWorld:
    """Three users; the owner has m.txt, granted to the grantee, and an unfinished tus upload."""
    owner, grantee, stranger = (register(client, unique_name(p)) for p in ("own", "gra", "str"))
    assert client.put(f"/users/{owner.name}/files/m.txt", content=b"matrix", headers=owner.auth).status_code == 201
    granted = client.put(f"/users/{owner.name}/files/m.txt/permissions/{grantee.name}", headers=owner.auth)
    assert granted.status_code == 204
    upload = client.post(
        "/uploads/",
        headers=owner.auth | {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": "filename eA=="},
    )
    assert upload.status_code == 201
    return AccessWorld(owner, grantee, stranger, upload.headers["location"])


# (method, path, body, expected status for owner, grantee, stranger, anonymous)
Expected = tuple[int | None, int | None, int | None, int | None]  # None: not tested here
MATRIX: list[tuple[str, str, bytes | None, Expected]] = [
    ("GET", "/users/{owner}/files", None, (200, 403, 403, 401)),
    ("GET", "/users/{owner}/files/m.txt", None, (200, 200, 404, 401)),
    ("HEAD", "/users/{owner}/files/m.txt", None, (200, 200, 404, 401)),
    ("GET", "/users/{owner}/files/m.txt/info", None, (200, 200, 404, 401)),
    ("PUT", "/users/{owner}/files/m.txt", b"matrix", (200, 403, 403, 401)),
    ("GET", "/users/{owner}/files/m.txt/permissions", None, (200, 403, 403, 401)),
    ("PUT", "/users/{owner}/files/m.txt/permissions/{grantee}", None, (204, 403, 403, 401)),
    ("GET", "/users/{owner}", None, (200, 403, 403, 401)),
    ("GET", "/users/{owner}/shared", None, (200, 403, 403, 401)),
    ("DELETE", "/users/{owner}/files/not-there.txt", None, (404, 403, 403, 401)),
    ("DELETE", "/users/{owner}/files/m.txt/permissions/{stranger}", None, (204, 403, 403, 401)),
    ("DELETE", "/users/{owner}", None, (None, 403, 403, 401)),  # the owner's case: test_accounts
    ("HEAD", "{upload}", None, (200, 404, 404, 401)),
    ("GET", "/analytics/downloads", None, (200, 200, 200, 401)),
    ("POST", "/auth/logout", None, (None, None, None, 401)),  # logging out would end the shared world
]
MATRIX_IDS = [f"{method} {path}" for method, path, _, _ in MATRIX]


def check_access(
    api: httpx.Client, world: AccessWorld, role: str, method: str, path: str, body: bytes | None, expected: Expected
) -> None:
    status = expected[ROLES.index(role)]
    if status is None:
        pytest.skip("covered where its side effect is the point")
    url = path.format(
        owner=world.owner.name, grantee=world.grantee.name, stranger=world.stranger.name, upload=world.upload_location
    )
    headers = world.headers(role) | ({"Tus-Resumable": "1.0.0"} if "{upload}" in path else {})
    response = api.request(method, url, content=body, headers=headers)
    assert response.status_code == status, (role, method, url, response.text)
    if status >= 400 and method != "HEAD":
        assert set(response.json()) == {"error"}
