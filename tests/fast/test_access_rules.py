"""tests/support/access.py's table (every endpoint × owner, grantee, stranger, anonymous), in-process;
plus the rules around tokens that the table cannot show."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.access import MATRIX, MATRIX_IDS, ROLES, AccessWorld, Expected, build_world, check_access
from tests.support.http import error_of, put, token_error_of
from tests.support.in_process import Fakes, in_process_api
from tests.support.users import User


@pytest.fixture(scope="module")
def matrix() -> Iterator[tuple[TestClient, AccessWorld]]:
    """One world for the whole table, as end to end: the rows are written not to disturb it."""
    with in_process_api(Fakes()) as client:
        yield client, build_world(client)


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=MATRIX_IDS)
@pytest.mark.parametrize("role", ROLES)
def test_access(
    matrix: tuple[TestClient, AccessWorld], role: str, method: str, path: str, body: bytes | None, expected: Expected
) -> None:
    check_access(*matrix, role, method, path, body, expected)


def test_a_file_the_reader_may_not_see_answers_as_a_missing_one(api: TestClient, alice: User, bob: User) -> None:
    assert put(api, alice, "secret.txt", b"s").status_code == 201
    hidden = api.get(f"/users/{alice.name}/files/secret.txt", headers=bob.auth)
    missing = api.get(f"/users/{alice.name}/files/nothing.txt", headers=bob.auth)
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert error_of(hidden)[0] == error_of(missing)[0] == "file_not_found"


def test_revoking_a_grant_hides_the_file_again(api: TestClient, alice: User, bob: User) -> None:
    assert put(api, alice, "shared.txt", b"s").status_code == 201
    permission = f"/users/{alice.name}/files/shared.txt/permissions/{bob.name}"
    assert api.put(permission, headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/files/shared.txt", headers=bob.auth).status_code == 200
    assert [f["filename"] for f in api.get(f"/users/{bob.name}/shared", headers=bob.auth).json()] == ["shared.txt"]
    assert api.delete(permission, headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/files/shared.txt", headers=bob.auth).status_code == 404
    assert api.get(f"/users/{bob.name}/shared", headers=bob.auth).json() == []


def test_tokens_bad_revoked_and_of_a_deleted_account_are_refused(api: TestClient, alice: User, bob: User) -> None:
    bad = api.get(f"/users/{alice.name}/files", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"
    assert error_of(bad)[0] == "unauthorized"
    assert api.post("/auth/logout", headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/files", headers=alice.auth).status_code == 401
    assert api.delete(f"/users/{bob.name}", headers=bob.auth).status_code == 204
    assert api.get(f"/users/{bob.name}", headers=bob.auth).status_code == 401


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(api: TestClient, alice: User) -> None:
    wrong_password = api.post("/auth/token", data={"username": alice.name, "password": "not the password"})
    no_such_user = api.post("/auth/token", data={"username": "nobody-here", "password": "not the password"})
    assert (wrong_password.status_code, no_such_user.status_code) == (401, 401)
    # RFC 6749 §5.2's shape, which OAuth2 clients (Swagger UI's Authorize dialog) read.
    assert (
        token_error_of(wrong_password)
        == token_error_of(no_such_user)
        == ("invalid_grant", "invalid_credentials", "incorrect username or password")
    )


def test_granting_needs_a_real_grantee_and_a_real_file(api: TestClient, alice: User, bob: User) -> None:
    assert put(api, alice, "g.txt", b"g").status_code == 201
    unknown_user = api.put(f"/users/{alice.name}/files/g.txt/permissions/nobody-here", headers=alice.auth)
    unknown_file = api.put(f"/users/{alice.name}/files/none.txt/permissions/{bob.name}", headers=alice.auth)
    to_self = api.put(f"/users/{alice.name}/files/g.txt/permissions/{alice.name}", headers=alice.auth)
    assert (error_of(unknown_user)[0], error_of(unknown_file)[0]) == ("user_not_found", "file_not_found")
    assert (to_self.status_code, error_of(to_self)[0]) == (422, "grant_to_owner")
