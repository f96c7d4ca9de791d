"""Giving and taking back the right to download a file."""

from __future__ import annotations

import httpx

from tests.support.http import error_of, put
from tests.support.users import User, register


def grant(api: httpx.Client, owner: User, filename: str, grantee: str) -> httpx.Response:
    return api.put(f"/users/{owner.name}/files/{filename}/permissions/{grantee}", headers=owner.auth)


def test_a_grantee_can_download_and_sees_the_file_as_shared(api: httpx.Client, alice: User, bob: User) -> None:
    info = put(api, alice, "report.pdf", b"%PDF-1.7 report").json()
    assert grant(api, alice, "report.pdf", bob.name).status_code == 204
    assert grant(api, alice, "report.pdf", bob.name).status_code == 204  # idempotent
    assert api.get(f"/users/{alice.name}/files/report.pdf/permissions", headers=alice.auth).json() == [bob.name]

    download = api.get(f"/users/{alice.name}/files/report.pdf", headers=bob.auth)
    assert download.status_code == 200
    assert download.content == b"%PDF-1.7 report"
    head = api.head(f"/users/{alice.name}/files/report.pdf", headers=bob.auth)
    assert head.status_code == 200

    shared = api.get(f"/users/{bob.name}/shared", headers=bob.auth)
    assert shared.status_code == 200
    assert shared.json() == [info]


def test_a_stranger_gets_404_not_403(api: httpx.Client, alice: User, bob: User) -> None:
    put(api, alice, "private.txt", b"mine")
    response = api.get(f"/users/{alice.name}/files/private.txt", headers=bob.auth)
    assert response.status_code == 404
    missing = api.get(f"/users/{alice.name}/files/no-such-file.txt", headers=bob.auth)
    # The same answer as for a file that does not exist: existence is not leaked.
    assert error_of(response)[0] == error_of(missing)[0] == "file_not_found"
    assert error_of(response)[1].replace("private.txt", "no-such-file.txt") == error_of(missing)[1]


def test_after_revoking_the_grantee_gets_404(api: httpx.Client, alice: User, bob: User) -> None:
    put(api, alice, "temp.txt", b"for a while")
    grant(api, alice, "temp.txt", bob.name)
    assert api.get(f"/users/{alice.name}/files/temp.txt", headers=bob.auth).status_code == 200
    revoked = api.delete(f"/users/{alice.name}/files/temp.txt/permissions/{bob.name}", headers=alice.auth)
    assert revoked.status_code == 204
    assert api.get(f"/users/{alice.name}/files/temp.txt", headers=bob.auth).status_code == 404
    assert api.get(f"/users/{bob.name}/shared", headers=bob.auth).json() == []
    assert api.get(f"/users/{alice.name}/files/temp.txt/permissions", headers=alice.auth).json() == []


def test_granting_needs_an_existing_user_and_file(api: httpx.Client, alice: User) -> None:
    put(api, alice, "f.txt", b"f")
    unknown_user = grant(api, alice, "f.txt", "nobody-like-this")
    assert unknown_user.status_code == 404
    assert error_of(unknown_user)[0] == "user_not_found"
    unknown_file = grant(api, alice, "missing.txt", alice.name + "x")
    assert unknown_file.status_code == 404
    assert error_of(unknown_file)[0] == "file_not_found"
    to_self = grant(api, alice, "f.txt", alice.name)
    assert to_self.status_code == 422
    invalid = grant(api, alice, "f.txt", "Not Valid")
    assert invalid.status_code == 422
    assert api.get(f"/users/{alice.name}/files/missing.txt/permissions", headers=alice.auth).status_code == 404


def test_only_the_owner_manages_grants(api: httpx.Client, alice: User, bob: User) -> None:
    put(api, alice, "g.txt", b"g")
    grant(api, alice, "g.txt", bob.name)
    carol = register(api)
    bob_grants = api.put(f"/users/{alice.name}/files/g.txt/permissions/{carol.name}", headers=bob.auth)
    assert bob_grants.status_code == 403
    assert api.get(f"/users/{alice.name}/files/g.txt/permissions", headers=bob.auth).status_code == 403
    removal = api.delete(f"/users/{alice.name}/files/g.txt/permissions/{bob.name}", headers=bob.auth)
    assert removal.status_code == 403
    # A grantee may read, not write or delete.
    assert api.put(f"/users/{alice.name}/files/g.txt", content=b"x", headers=bob.auth).status_code == 403
    assert api.delete(f"/users/{alice.name}/files/g.txt", headers=bob.auth).status_code == 403
    assert api.get(f"/users/{alice.name}/files/g.txt", headers=alice.auth).content == b"g"


def test_deleting_a_shared_file_takes_it_from_the_grantee(api: httpx.Client, alice: User, bob: User) -> None:
    put(api, alice, "shared.txt", b"s")
    grant(api, alice, "shared.txt", bob.name)
    assert api.delete(f"/users/{alice.name}/files/shared.txt", headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/files/shared.txt", headers=bob.auth).status_code == 404
    assert api.get(f"/users/{bob.name}/shared", headers=bob.auth).json() == []
    # A new file under the same name is not shared: grants died with the old one.
    put(api, alice, "shared.txt", b"new")
    assert api.get(f"/users/{alice.name}/files/shared.txt", headers=bob.auth).status_code == 404


def test_replacing_a_file_keeps_its_grants(api: httpx.Client, alice: User, bob: User) -> None:
    put(api, alice, "doc.txt", b"v1")
    grant(api, alice, "doc.txt", bob.name)
    put(api, alice, "doc.txt", b"v2")
    assert api.get(f"/users/{alice.name}/files/doc.txt", headers=bob.auth).content == b"v2"
