"""Bad input is a 422 (or 400) whose message says what is wrong, before any other service is asked."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.support.http import error_of, put
from tests.support.in_process import Fakes
from tests.support.users import User

USERNAME_RULE = "use 3-32 characters of a-z 0-9 _ . -, starting with a letter or digit"


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("ab", USERNAME_RULE),
        ("Alice", USERNAME_RULE),
        ("-alice", USERNAME_RULE),
        ("a" * 33, USERNAME_RULE),
        ("al ice", USERNAME_RULE),
    ],
)
def test_registering_a_bad_username_says_the_rule(api: TestClient, fakes: Fakes, username: str, why: str) -> None:
    response = api.post("/users", json={"username": username, "password": "long enough password"})
    assert response.status_code == 422
    code, message = error_of(response)
    assert code == "invalid_input"
    assert message.startswith("username: ") and message.endswith(why), message
    assert fakes.metadata.accounts == {}


def test_registering_needs_a_long_enough_password_and_both_fields(api: TestClient) -> None:
    short = api.post("/users", json={"username": "alice", "password": "short"})
    assert error_of(short) == ("invalid_input", "password: String should have at least 8 characters")
    missing = api.post("/users", json={"username": "alice"})
    assert error_of(missing) == ("invalid_input", "password: Field required")
    not_json = api.post("/users", content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422
    assert error_of(not_json)[0] == "invalid_input"


def test_a_bad_username_in_a_path_is_422_for_a_signed_in_caller(api: TestClient, alice: User) -> None:
    for path in ("/users/Bad!/files", "/users/x/shared", f"/users/{alice.name}/files/a.txt/permissions/NO"):
        response = api.get(path, headers=alice.auth) if "permissions" not in path else api.put(path, headers=alice.auth)
        assert response.status_code == 422, (path, response.text)
        assert USERNAME_RULE in error_of(response)[1]


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("%2E", "filename: '.' is not allowed as a filename"),  # encoded: clients drop dot segments
        ("%2E%2E", "filename: '..' is not allowed as a filename"),
        ("a//b", "filename: a path must not have an empty segment (a leading, trailing or double '/')"),
        (
            "tab\there",
            "filename: a filename must not contain control characters or invisible formatting (found U+0009)",
        ),
        (
            "invoice\u202egpj.exe",
            "filename: a filename must not contain control characters or invisible formatting (found U+202E)",
        ),
        ("x" * 256, "filename: a filename may have at most 255 bytes of UTF-8, this one has 256"),
        ("é" * 128, "filename: a filename may have at most 255 bytes of UTF-8, this one has 256"),
    ],
)
def test_a_bad_filename_says_what_is_wrong(api: TestClient, alice: User, filename: str, message: str) -> None:
    path = f"/users/{alice.name}/files/{quote(filename, safe='%')}"
    for response in (
        api.put(path, content=b"x", headers=alice.auth),
        api.get(path, headers=alice.auth),
        api.delete(path, headers=alice.auth),
    ):
        assert response.status_code == 422, (response.request.method, response.text)
        assert error_of(response) == ("invalid_input", message)


def test_a_filename_is_stored_in_its_nfc_form(api: TestClient, alice: User) -> None:
    decomposed = "cafe\u0301.txt"
    stored = put(api, alice, decomposed, b"coffee")
    assert stored.status_code == 201
    assert stored.json()["filename"] == "caf\u00e9.txt"
    assert api.get(f"/users/{alice.name}/files/{quote('café.txt')}", headers=alice.auth).status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: Input should be greater than or equal to 1"),
        ("limit=1001", "limit: Input should be less than or equal to 1000"),
        ("limit=many", "limit: Input should be a valid integer, unable to parse string as an integer"),
        ("cursor=%21%21%21", "cursor: not a cursor this API returned"),
        ("cursor=AA", "cursor: not a cursor this API returned"),
    ],
)
def test_a_bad_page_request_says_what_is_wrong(api: TestClient, alice: User, query: str, message: str) -> None:
    response = api.get(f"/users/{alice.name}/files?{query}", headers=alice.auth)
    assert response.status_code == 422
    code = "invalid_cursor" if query.startswith("cursor") else "invalid_input"
    assert error_of(response) == (code, message)


def test_a_content_type_must_be_a_media_type(api: TestClient, alice: User) -> None:
    response = put(api, alice, "a.txt", b"a", **{"Content-Type": "not a media type"})
    assert response.status_code == 422
    assert error_of(response) == (
        "invalid_content_type",
        "Content-Type 'not a media type' is not a media type like text/plain",
    )


def test_announced_digests_must_be_sha256(api: TestClient, alice: User) -> None:
    bad_hex = put(api, alice, "a.txt", b"a", **{"X-Checksum-SHA256": "abc"})
    assert (bad_hex.status_code, error_of(bad_hex)[0]) == (400, "invalid_digest")
    no_sha = put(api, alice, "a.txt", b"a", **{"Repr-Digest": "md5=:AAAA:"})
    assert error_of(no_sha) == ("invalid_digest", "Repr-Digest carries no sha-256 digest")
    wrong = put(api, alice, "a.txt", b"a", **{"X-Checksum-SHA256": "0" * 64})
    assert (wrong.status_code, error_of(wrong)[0]) == (400, "digest_mismatch")


def test_a_form_upload_needs_a_multipart_body_with_a_file_field(api: TestClient, alice: User) -> None:
    url = f"/users/{alice.name}/files"
    not_multipart = api.post(url, content=b"plain", headers=alice.auth | {"Content-Type": "text/plain"})
    assert (not_multipart.status_code, error_of(not_multipart)[0]) == (400, "not_multipart")
    no_file = api.post(url, files={"other": ("x.txt", b"x")}, headers=alice.auth)
    assert error_of(no_file) == ("file_field_missing", "the form has no 'file' field with a file")


def test_analytics_bounds_must_be_ordered_times_with_an_offset(api: TestClient, alice: User) -> None:
    reversed_bounds = api.get(
        "/analytics/downloads",
        params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        headers=alice.auth,
    )
    assert error_of(reversed_bounds) == ("invalid_input", "since must not be after until")
    naive = api.get("/analytics/downloads", params={"since": "2026-01-02T00:00:00"}, headers=alice.auth)
    assert naive.status_code == 422
    assert error_of(naive)[1].startswith("since: Input should have timezone info")


def test_a_resumable_upload_must_name_a_valid_file(api: TestClient, alice: User) -> None:
    tus = alice.auth | {"Tus-Resumable": "1.0.0", "Upload-Length": "3"}
    nameless = api.post("/uploads/", headers=tus | {"Upload-Metadata": "filetype dGV4dC9wbGFpbg=="})
    assert (nameless.status_code, error_of(nameless)[0]) == (400, "filename_required")
    not_base64 = api.post("/uploads/", headers=tus | {"Upload-Metadata": "filename !!!"})
    assert (not_base64.status_code, error_of(not_base64)[0]) == (400, "invalid_metadata")
    dots = api.post("/uploads/", headers=tus | {"Upload-Metadata": "filename " + base64.b64encode(b"..").decode()})
    assert error_of(dots) == ("invalid_input", "'..' is not allowed as a filename")
    no_length = api.post(
        "/uploads/", headers=alice.auth | {"Tus-Resumable": "1.0.0", "Upload-Metadata": "filename eA=="}
    )
    assert (no_length.status_code, error_of(no_length)[0]) == (400, "length_required")
