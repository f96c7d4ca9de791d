"""The web app's download cookie (POST /auth/session): HttpOnly and SameSite=Strict, accepted in
place of the bearer header for GET and HEAD of bytes only, never for anything that changes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.http import put
from tests.support.users import User


def session_cookie(api: TestClient, user: User) -> dict[str, str]:
    answer = api.post("/auth/session", headers=user.auth)
    assert answer.status_code == 204
    set_cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie and "Path=/" in set_cookie
    api.cookies.clear()  # sent explicitly below, never from the client's jar
    return {"Cookie": set_cookie.split(";", 1)[0]}


def test_the_cookie_reads_bytes_and_nothing_else(api: TestClient, alice: User) -> None:
    assert put(api, alice, "c.txt", b"cookie").status_code == 201
    cookie = session_cookie(api, alice)
    assert api.get(f"/users/{alice.name}/files/c.txt", headers=cookie).status_code == 200
    assert api.head(f"/users/{alice.name}/files/c.txt", headers=cookie).status_code == 200
    file_id = api.get(f"/users/{alice.name}/files/c.txt/info", headers=alice.auth).json()["id"]
    assert api.get(f"/files/{file_id}/versions/1", headers=cookie).status_code == 200
    # Everything else needs the bearer header: listings, metadata and every change.
    for method, path in [
        ("GET", f"/users/{alice.name}/files"),
        ("GET", f"/users/{alice.name}/folders"),
        ("GET", f"/files/{file_id}"),
        ("PUT", f"/users/{alice.name}/files/d.txt"),
        ("DELETE", f"/users/{alice.name}/files/c.txt"),
        ("POST", f"/users/{alice.name}/move"),
        ("DELETE", f"/users/{alice.name}"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/session"),
    ]:
        assert api.request(method, path, headers=cookie, content=b"x").status_code == 401, (method, path)
    assert api.get(f"/users/{alice.name}/files/c.txt", headers=alice.auth).status_code == 200


def test_a_bad_or_cleared_cookie_is_401(api: TestClient, alice: User) -> None:
    assert put(api, alice, "e.txt", b"e").status_code == 201
    bad = api.get(f"/users/{alice.name}/files/e.txt", headers={"Cookie": "liftbit_session=not-a-token"})
    assert bad.status_code == 401
    cleared = api.delete("/auth/session")
    assert cleared.status_code == 204
    assert 'liftbit_session=""' in cleared.headers["set-cookie"] and "Max-Age=0" in cleared.headers["set-cookie"]
    assert api.post("/auth/session").status_code == 401  # only a bearer header opens a session
