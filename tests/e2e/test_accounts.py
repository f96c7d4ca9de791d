"""Accounts through nginx: registration, login, logout, token expiry, account deletion."""

from __future__ import annotations

import hashlib
import time

import boto3
import httpx
import psycopg
import pytest

from scripts.stack.info import StackInfo
from tests.support.events import EventLog
from tests.support.http import error_of, token_error_of
from tests.support.stack import after_revocation
from tests.support.users import User, register, unique_name


def test_register_returns_the_username(api: httpx.Client) -> None:
    name = unique_name()
    response = api.post("/users", json={"username": name, "password": "a long password"})
    assert response.status_code == 201
    assert response.json() == {"username": name}


def test_duplicate_username_is_409(api: httpx.Client, alice: User) -> None:
    response = api.post("/users", json={"username": alice.name, "password": "another password"})
    assert response.status_code == 409
    code, message = error_of(response)
    assert code == "username_taken"
    assert alice.name in message


@pytest.mark.parametrize(
    ("username", "fragment"),
    [
        ("ab", "not a valid username"),
        ("Alice", "not a valid username"),
        ("_alice", "not a valid username"),
        ("a" * 33, "not a valid username"),
        ("al ice", "not a valid username"),
    ],
)
def test_invalid_username_is_422_with_the_rule(api: httpx.Client, username: str, fragment: str) -> None:
    response = api.post("/users", json={"username": username, "password": "a long password"})
    assert response.status_code == 422
    code, message = error_of(response)
    assert code == "invalid_input"
    assert fragment in message and "3-32 characters" in message


def test_short_password_and_missing_fields_are_422(api: httpx.Client) -> None:
    short = api.post("/users", json={"username": unique_name(), "password": "short"})
    assert short.status_code == 422
    assert "password" in error_of(short)[1]
    missing = api.post("/users", json={"username": unique_name()})
    assert missing.status_code == 422
    assert "password" in error_of(missing)[1]
    not_json = api.post("/users", content=b"{oops", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422


def test_login_gives_a_bearer_token(api: httpx.Client, alice: User) -> None:
    response = api.post("/auth/token", data={"username": alice.name, "password": alice.password})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = api.get(f"/users/{alice.name}", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == alice.name


def test_wrong_password_and_unknown_user_get_the_same_401(api: httpx.Client, alice: User) -> None:
    wrong = api.post("/auth/token", data={"username": alice.name, "password": "not the password"})
    unknown = api.post("/auth/token", data={"username": unique_name(), "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert token_error_of(wrong) == token_error_of(unknown)  # no username enumeration through the message


def test_requests_without_or_with_a_bad_token_are_401(api: httpx.Client, alice: User) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = api.get(f"/users/{alice.name}/files", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert error_of(response)[0] == "unauthorized"


def test_another_users_namespace_is_403(api: httpx.Client, alice: User, bob: User) -> None:
    for method, path in [
        ("GET", f"/users/{bob.name}/files"),
        ("GET", f"/users/{bob.name}"),
        ("PUT", f"/users/{bob.name}/files/x.txt"),
        ("DELETE", f"/users/{bob.name}/files/x.txt"),
        ("DELETE", f"/users/{bob.name}"),
        ("GET", f"/users/{bob.name}/shared"),
    ]:
        response = api.request(method, path, headers=alice.auth, content=b"x" if method == "PUT" else None)
        assert response.status_code == 403, (method, path, response.text)
        assert error_of(response)[0] == "not_your_namespace"


def test_logout_revokes_the_token(api: httpx.Client, alice: User) -> None:
    assert api.get(f"/users/{alice.name}/files", headers=alice.auth).status_code == 200
    assert api.post("/auth/logout", headers=alice.auth).status_code == 204
    after_revocation()
    assert api.get(f"/users/{alice.name}/files", headers=alice.auth).status_code == 401


def test_an_expired_token_is_refused(api: httpx.Client, stack: StackInfo, alice: User) -> None:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as db:
        db.execute(
            "UPDATE tokens SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
            (hashlib.sha256(alice.token.encode()).hexdigest(),),
        )
    response = api.get(f"/users/{alice.name}/files", headers=alice.auth)
    assert response.status_code == 401


def test_failed_logins_back_off_for_the_username_and_address_that_guess(api: httpx.Client, alice: User) -> None:
    statuses = [
        api.post("/auth/token", data={"username": alice.name, "password": "wrong password"}).status_code
        for _ in range(7)
    ]
    assert statuses == [401] * 6 + [429]  # six free guesses, then 2, 4, 8 … s between tries
    blocked = api.post("/auth/token", data={"username": alice.name, "password": alice.password})
    assert blocked.status_code == 429
    wait = int(blocked.headers["retry-after"])
    assert 1 <= wait <= 2
    time.sleep(wait)
    assert api.post("/auth/token", data={"username": alice.name, "password": alice.password}).status_code == 200


def test_deleting_an_account_removes_files_objects_grants_and_tokens(
    api: httpx.Client, stack: StackInfo, events: EventLog, alice: User, bob: User
) -> None:
    for name in ("one.txt", "two.txt"):
        assert (
            api.put(f"/users/{alice.name}/files/{name}", content=name.encode(), headers=alice.auth).status_code == 201
        )
    assert api.put(f"/users/{alice.name}/files/one.txt/permissions/{bob.name}", headers=alice.auth).status_code == 204
    bobs = api.put(f"/users/{bob.name}/files/b.txt", content=b"b", headers=bob.auth)
    assert api.put(f"/users/{bob.name}/files/b.txt/permissions/{alice.name}", headers=bob.auth).status_code == 204
    assert bobs.status_code == 201
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        keys = [
            row[0]
            for row in db.execute(
                "SELECT object_key FROM nodes JOIN users ON users.id = nodes.owner_id "
                "WHERE username = %s AND type = 'file'",
                (alice.name,),
            )
        ]
    assert len(keys) == 2

    assert api.delete(f"/users/{alice.name}", headers=alice.auth).status_code == 204

    after_revocation()
    assert api.get(f"/users/{alice.name}/files", headers=alice.auth).status_code == 401  # token gone
    assert api.get(f"/users/{bob.name}/shared", headers=bob.auth).json() == []
    assert api.get(f"/users/{bob.name}/files/b.txt/permissions", headers=bob.auth).json() == []
    relogin = api.post("/auth/token", data={"username": alice.name, "password": alice.password})
    assert relogin.status_code == 401
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.env["S3_ENDPOINT_URL"],
        aws_access_key_id=stack.env["S3_KEY_ID"],
        aws_secret_access_key=stack.env["S3_KEY_SECRET"],
        region_name="us-east-1",
    )
    for key in keys:
        with pytest.raises(s3.exceptions.ClientError):
            s3.head_object(Bucket=stack.env["S3_BUCKET"], Key=key)
    deletes = events.wait_for(lambda e: e["owner"] == alice.name and e["type"] == "delete", 2)
    assert sorted(e["filename"] for e in deletes) == ["one.txt", "two.txt"]
    # The name is free again, with nothing of the old account.
    again = register(api, alice.name)
    assert api.get(f"/users/{again.name}/files", headers=again.auth).json() == {"items": [], "next_cursor": None}


def test_odd_login_input_is_a_plain_401(api: httpx.Client) -> None:
    for username in ("with\x00nul", "x" * 5000, "Ünïcode", ""):
        response = api.post("/auth/token", data={"username": username, "password": "whatever it is"})
        assert response.status_code in (401, 422), (username, response.text)
