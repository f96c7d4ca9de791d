"""The access rules as one table (every endpoint × owner, grantee of the file, grantee of its
folder, stranger, anonymous), checked by both tiers: in-process against the fakes (tests/fast) and
end to end (tests/e2e)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.support.users import User, register, unique_name

OWNER, FILE_GRANTEE, FOLDER_GRANTEE, STRANGER, ANONYMOUS = (
    "owner",
    "file-grantee",
    "folder-grantee",
    "stranger",
    "anonymous",
)
ROLES = (OWNER, FILE_GRANTEE, FOLDER_GRANTEE, STRANGER, ANONYMOUS)


@dataclass(frozen=True)
class AccessWorld:
    """The owner's file dir/m.txt is granted to one user, its folder dir to another."""

    owner: User
    file_grantee: User
    folder_grantee: User
    stranger: User
    upload_location: str
    file_id: str
    folder_id: str
    trash_id: str

    def headers(self, role: str) -> dict[str, str]:
        users = {
            OWNER: self.owner,
            FILE_GRANTEE: self.file_grantee,
            FOLDER_GRANTEE: self.folder_grantee,
            STRANGER: self.stranger,
        }
        return users[role].auth if role in users else {}


def build_world(client: httpx.Client) -> AccessWorld:
    """Four users; the owner has dir/m.txt (granted by path), the folder dir (granted by id), a
    file in the trash, and an unfinished tus upload."""
    owner, file_grantee, folder_grantee, stranger = (
        register(client, unique_name(p)) for p in ("own", "fgr", "dgr", "str")
    )
    created = client.put(f"/users/{owner.name}/files/dir/m.txt", content=b"matrix", headers=owner.auth)
    assert created.status_code == 201
    granted = client.put(f"/users/{owner.name}/files/dir/m.txt/permissions/{file_grantee.name}", headers=owner.auth)
    assert granted.status_code == 204
    folder = client.put(f"/users/{owner.name}/folders/dir", headers=owner.auth).json()
    assert client.put(f"/files/{folder['id']}/permissions/{folder_grantee.name}", headers=owner.auth).status_code == 204
    client.put(f"/users/{owner.name}/files/gone.txt", content=b"bin", headers=owner.auth)
    assert client.delete(f"/users/{owner.name}/files/gone.txt", headers=owner.auth).status_code == 204
    trash = client.get(f"/users/{owner.name}/trash", headers=owner.auth).json()["items"]
    upload = client.post(
        "/uploads/",
        headers=owner.auth | {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": "filename eA=="},
    )
    assert upload.status_code == 201
    return AccessWorld(
        owner,
        file_grantee,
        folder_grantee,
        stranger,
        upload.headers["location"],
        created.json()["id"],
        folder["id"],
        trash[0]["id"],
    )


# (method, path, body, expected status for owner, file grantee, folder grantee, stranger, anonymous)
Expected = tuple[int | None, int | None, int | None, int | None, int | None]  # None: not tested here
NAMESPACE = (403, 403, 403, 401)  # what everyone but the owner gets on a user-scoped path
MOVE = b'{"from": "dir/none.txt", "to": "elsewhere.txt"}'
MATRIX: list[tuple[str, str, bytes | None, Expected]] = [
    ("GET", "/users/{owner}/files", None, (200, *NAMESPACE)),
    ("GET", "/users/{owner}/files?q=m&prefix=dir", None, (200, *NAMESPACE)),
    ("GET", "/users/{owner}/files/dir/m.txt", None, (200, 200, 200, 404, 401)),
    ("HEAD", "/users/{owner}/files/dir/m.txt", None, (200, 200, 200, 404, 401)),
    ("GET", "/users/{owner}/files/dir/m.txt/info", None, (200, 200, 200, 404, 401)),
    ("PUT", "/users/{owner}/files/dir/m.txt", b"matrix", (200, *NAMESPACE)),
    ("GET", "/users/{owner}/files/dir/m.txt/permissions", None, (200, *NAMESPACE)),
    ("PUT", "/users/{owner}/files/dir/m.txt/permissions/{file_grantee}", None, (204, *NAMESPACE)),
    ("DELETE", "/users/{owner}/files/dir/m.txt/permissions/{stranger}", None, (204, *NAMESPACE)),
    ("DELETE", "/users/{owner}/files/not-there.txt", None, (404, *NAMESPACE)),
    ("GET", "/users/{owner}", None, (200, *NAMESPACE)),
    ("GET", "/users/{owner}/shared", None, (200, *NAMESPACE)),
    ("GET", "/users/{owner}/shared?q=m", None, (200, *NAMESPACE)),
    ("DELETE", "/users/{owner}", None, (None, *NAMESPACE)),  # the owner's case: test_accounts
    ("GET", "/users/{owner}/folders", None, (200, *NAMESPACE)),
    ("GET", "/users/{owner}/folders/dir", None, (200, 404, 200, 404, 401)),
    ("PUT", "/users/{owner}/folders/dir", None, (200, *NAMESPACE)),
    ("DELETE", "/users/{owner}/folders/not-there", None, (404, *NAMESPACE)),
    ("POST", "/users/{owner}/move", MOVE, (404, *NAMESPACE)),
    ("GET", "/users/{owner}/trash", None, (200, *NAMESPACE)),
    # The owner's restore and purges change the world: tests/e2e/test_tree.py covers them.
    ("POST", "/users/{owner}/trash/{trash}/restore", None, (None, *NAMESPACE)),
    ("DELETE", "/users/{owner}/trash/{trash}", None, (None, *NAMESPACE)),
    ("DELETE", "/users/{owner}/trash", None, (None, *NAMESPACE)),
    ("GET", "/files/{file}", None, (200, 200, 200, 404, 401)),
    ("GET", "/files/{folder}", None, (200, 404, 200, 404, 401)),
    ("GET", "/files/{file}/permissions", None, (200, 403, 403, 404, 401)),
    ("PUT", "/files/{file}/permissions/{file_grantee}", None, (204, 403, 403, 404, 401)),
    ("DELETE", "/files/{folder}/permissions/{stranger}", None, (204, 404, 403, 404, 401)),
    ("GET", "/files/{file}/versions", None, (200, 403, 403, 404, 401)),
    ("GET", "/files/{file}/versions/1", None, (200, 200, 200, 404, 401)),
    ("POST", "/files/{file}/versions/1/restore", None, (200, 403, 403, 404, 401)),
    ("HEAD", "{upload}", None, (200, 404, 404, 404, 401)),
    ("GET", "/analytics/downloads", None, (200, 200, 200, 200, 401)),
    ("POST", "/auth/logout", None, (None, None, None, None, 401)),  # logging out would end the shared world
]
MATRIX_IDS = [f"{method} {path}" for method, path, _, _ in MATRIX]


def check_access(
    api: httpx.Client, world: AccessWorld, role: str, method: str, path: str, body: bytes | None, expected: Expected
) -> None:
    status = expected[ROLES.index(role)]
    if status is None:
        pytest.skip("covered where its side effect is the point")
    url = path.format(
        owner=world.owner.name,
        file_grantee=world.file_grantee.name,
        stranger=world.stranger.name,
        upload=world.upload_location,
        file=world.file_id,
        folder=world.folder_id,
        trash=world.trash_id,
    )
    headers = world.headers(role) | ({"Tus-Resumable": "1.0.0"} if "{upload}" in path else {})
    if body is not None and body.startswith(b"{"):
        headers["Content-Type"] = "application/json"
    response = api.request(method, url, content=body, headers=headers)
    assert response.status_code == status, (role, method, url, response.text)
    if status >= 400 and method != "HEAD":
        assert set(response.json()) == {"error"}
