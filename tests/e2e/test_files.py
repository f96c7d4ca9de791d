"""Files through nginx: upload (raw and form), download, HEAD, list, delete, names, errors."""

from __future__ import annotations

import hashlib
import socket
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.support.http import error_of, put
from tests.support.stack import Stack
from tests.support.users import User


def test_upload_then_download_the_same_bytes(api: httpx.Client, alice: User) -> None:
    body = bytes(range(256)) * 1000
    created = put(api, alice, "data.bin", body, **{"Content-Type": "application/x-test"})
    assert created.status_code == 201
    info = created.json()
    assert info["owner"] == alice.name
    assert info["filename"] == "data.bin"
    assert info["size"] == len(body)
    assert info["sha256"] == hashlib.sha256(body).hexdigest()
    assert info["content_type"] == "application/x-test"
    assert info["created_at"] == info["updated_at"]

    download = api.get(f"/users/{alice.name}/files/data.bin", headers=alice.auth)
    assert download.status_code == 200
    assert download.content == body
    assert download.headers["content-length"] == str(len(body))
    assert download.headers["etag"] == f'"{info["sha256"]}"'
    assert download.headers["content-type"] == "application/x-test"
    assert download.headers["content-disposition"].startswith('attachment; filename="data.bin"')


def test_replacing_a_file_is_200_and_keeps_created_at(api: httpx.Client, alice: User) -> None:
    first = put(api, alice, "v.txt", b"version one").json()
    replaced = put(api, alice, "v.txt", b"version two!")
    assert replaced.status_code == 200
    info = replaced.json()
    assert info["created_at"] == first["created_at"]
    assert info["updated_at"] > first["updated_at"]
    assert info["size"] == len(b"version two!")
    assert api.get(f"/users/{alice.name}/files/v.txt", headers=alice.auth).content == b"version two!"


def test_multipart_form_upload(api: httpx.Client, alice: User) -> None:
    body = b"form upload \x00\x01\x02" * 5000
    response = api.post(
        f"/users/{alice.name}/files",
        files={"file": ("héllo wörld.bin", body, "application/octet-stream")},
        data={"other": "ignored"},
        headers=alice.auth,
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "héllo wörld.bin"
    assert response.json()["sha256"] == hashlib.sha256(body).hexdigest()
    download = api.get(f"/users/{alice.name}/files/{quote('héllo wörld.bin')}", headers=alice.auth)
    assert download.content == body
    assert "filename*=UTF-8''h%C3%A9llo%20w%C3%B6rld.bin" in download.headers["content-disposition"]


def test_multipart_without_a_file_field_is_rejected(api: httpx.Client, alice: User) -> None:
    response = api.post(f"/users/{alice.name}/files", files={"note": (None, "no file")}, headers=alice.auth)
    assert response.status_code == 422
    assert error_of(response)[0] == "file_field_missing"
    raw = api.post(f"/users/{alice.name}/files", content=b"plain", headers=alice.auth)
    assert raw.status_code == 400
    assert error_of(raw)[0] == "not_multipart"


def test_empty_file(api: httpx.Client, alice: User) -> None:
    response = put(api, alice, "empty", b"")
    assert response.status_code == 201
    assert response.json()["size"] == 0
    download = api.get(f"/users/{alice.name}/files/empty", headers=alice.auth)
    assert download.status_code == 200
    assert download.content == b""


def test_put_without_a_body_is_411(stack: Stack, alice: User) -> None:
    # Neither Content-Length nor Transfer-Encoding: the client forgot the body.
    url = urlsplit(stack.url)
    with socket.create_connection((url.hostname, url.port)) as connection:
        request = (
            f"PUT /users/{alice.name}/files/nobody.txt HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {alice.token}\r\nConnection: close\r\n\r\n"
        )
        connection.sendall(request.encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 411 " in status_line, answer
    assert b"length_required" in rest


def test_head_gives_the_headers_without_a_body(api: httpx.Client, alice: User) -> None:
    info = put(api, alice, "h.txt", b"0123456789").json()
    head = api.head(f"/users/{alice.name}/files/h.txt", headers=alice.auth)
    assert head.status_code == 200
    assert head.headers["content-length"] == "10"
    assert head.headers["etag"] == f'"{info["sha256"]}"'
    assert head.content == b""
    assert api.head(f"/users/{alice.name}/files/missing.txt", headers=alice.auth).status_code == 404


def test_list_pages_through_every_file_in_byte_order(api: httpx.Client, alice: User) -> None:
    names = [f"f{i:02d}.txt" for i in range(7)] + ["Zed", "a b", "é"]
    for name in names:
        assert put(api, alice, name, name.encode()).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.get(f"/users/{alice.name}/files", params=params, headers=alice.auth)
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= 3
        seen += [item["filename"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(names, key=lambda n: n.encode())
    assert pages == 4


def test_list_rejects_bad_parameters(api: httpx.Client, alice: User) -> None:
    assert api.get(f"/users/{alice.name}/files", params={"limit": 0}, headers=alice.auth).status_code == 422
    assert api.get(f"/users/{alice.name}/files", params={"limit": 1001}, headers=alice.auth).status_code == 422
    bad_cursor = api.get(f"/users/{alice.name}/files", params={"cursor": "!!!"}, headers=alice.auth)
    assert bad_cursor.status_code == 422
    assert error_of(bad_cursor)[0] == "invalid_cursor"


def test_delete_removes_the_file(api: httpx.Client, alice: User) -> None:
    put(api, alice, "gone.txt", b"bye")
    assert api.delete(f"/users/{alice.name}/files/gone.txt", headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/files/gone.txt", headers=alice.auth).status_code == 404
    again = api.delete(f"/users/{alice.name}/files/gone.txt", headers=alice.auth)
    assert again.status_code == 404
    assert error_of(again)[0] == "file_not_found"


@pytest.mark.parametrize(
    ("raw_name", "fragment"),
    [
        ("a%2Fb", "must not contain '/'"),
        ("%2E%2E", "not allowed"),
        ("%2E", "not allowed"),
        ("tab%09", "control characters"),
        ("x" * 256, "at most 255 bytes"),
        ("%C3%A9" * 128, "at most 255 bytes"),
    ],
)
def test_invalid_filenames_are_422(api: httpx.Client, alice: User, raw_name: str, fragment: str) -> None:
    for method in ("PUT", "GET", "DELETE"):
        response = api.request(
            method,
            f"/users/{alice.name}/files/{raw_name}",
            content=b"x" if method == "PUT" else None,
            headers=alice.auth,
        )
        assert response.status_code == 422, (method, raw_name, response.text)
        assert fragment in error_of(response)[1]


def test_nul_in_a_filename_is_refused(api: httpx.Client, stack: Stack, alice: User) -> None:
    # nginx refuses %00 in a path before any service sees it: 400, in the error shape.
    via_nginx = api.put(f"/users/{alice.name}/files/nul%00byte", content=b"x", headers=alice.auth)
    assert via_nginx.status_code == 400
    assert error_of(via_nginx)[0] == "bad_request"
    assert "NUL" in error_of(via_nginx)[1]
    # In a form upload's filename it reaches validation.
    body = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="nul\x00byte"\r\n\r\nx\r\n--XyZ--\r\n'
    form_headers = alice.auth | {"Content-Type": "multipart/form-data; boundary=XyZ"}
    form = api.post(f"/users/{alice.name}/files", content=body, headers=form_headers)
    assert form.status_code == 422
    assert "control characters" in error_of(form)[1]
    # And files_ms itself rejects it too, should anything route around nginx.
    direct = httpx.put(
        f"{stack.env['FILES_URL']}/users/{alice.name}/files/nul%00byte", content=b"x", headers=alice.auth
    )
    assert direct.status_code == 422


def test_empty_filename_is_422(api: httpx.Client, alice: User) -> None:
    response = api.put(f"/users/{alice.name}/files/", content=b"x", headers=alice.auth)
    assert response.status_code == 422
    assert "empty" in error_of(response)[1]


def test_longest_filename_and_unicode_normalisation(api: httpx.Client, alice: User) -> None:
    longest = "y" * 255
    assert put(api, alice, longest, b"long").status_code == 201
    decomposed = "e\u0301t\u00e9"  # "été" written two ways: stored once, in NFC
    assert put(api, alice, decomposed, b"nfd").status_code == 201
    assert put(api, alice, "\u00e9t\u00e9", b"nfc").status_code == 200
    names = [i["filename"] for i in api.get(f"/users/{alice.name}/files", headers=alice.auth).json()["items"]]
    assert names.count("\u00e9t\u00e9") == 1


def test_unknown_file_and_unknown_owner_are_404(api: httpx.Client, alice: User) -> None:
    missing = api.get(f"/users/{alice.name}/files/nothing-here", headers=alice.auth)
    assert missing.status_code == 404
    assert error_of(missing)[0] == "file_not_found"
    stranger = api.get("/users/nobody-at-all/files/x", headers=alice.auth)
    assert stranger.status_code == 404


def test_object_keys_are_opaque(api: httpx.Client, stack: Stack, alice: User) -> None:
    import psycopg

    put(api, alice, "secret-plans.txt", b"x")
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        (key,) = db.execute(
            "SELECT object_key FROM nodes JOIN users ON users.id = owner_id "
            "WHERE username = %s AND path = 'secret-plans.txt'",
            (alice.name,),
        ).fetchone() or ("",)
    assert len(key) == 32 and "secret" not in key and alice.name not in key


def test_odd_cursor_and_content_type_are_422(api: httpx.Client, alice: User) -> None:
    import base64

    nul_cursor = base64.urlsafe_b64encode(b"a\x00b").decode()
    listing = api.get(f"/users/{alice.name}/files", params={"cursor": nul_cursor}, headers=alice.auth)
    assert listing.status_code == 422
    bad_type = put(api, alice, "typed.txt", b"x", **{"Content-Type": "not a media type"})
    assert bad_type.status_code == 422
    assert error_of(bad_type)[0] == "invalid_content_type"
    assert api.get(f"/users/{alice.name}/files/typed.txt", headers=alice.auth).status_code == 404
