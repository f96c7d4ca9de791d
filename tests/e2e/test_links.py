"""Share links through nginx: creating, listing and revoking them; recipients' pages and bytes;
passwords (header, form and cookie, throttled); exact download limits; folder links confined to
their folder; links of deleted files; the events; and the bad input around them."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from tusclient.client import TusClient

from scripts.stack.info import StackInfo
from tests.support.events import EventLog
from tests.support.http import content, error_of, put
from tests.support.tus import TUS
from tests.support.users import User


def file_id(api: httpx.Client, user: User, path: str) -> str:
    info = api.get(f"/users/{user.name}/files/{path}/info", headers=user.auth)
    assert info.status_code == 200, info.text
    return str(info.json()["id"])


def folder_id(api: httpx.Client, user: User, path: str) -> str:
    made = api.put(f"/users/{user.name}/folders/{path}", headers=user.auth)
    assert made.status_code in (200, 201), made.text
    return str(made.json()["id"])


def make_link(api: httpx.Client, user: User, node_id: str, **options: Any) -> dict[str, Any]:
    created = api.post(f"/files/{node_id}/links", json=options, headers=user.auth)
    assert created.status_code == 201, created.text
    return dict(created.json())


def share(path: str, link: dict[str, Any]) -> str:
    """A recipient's path under the link, e.g. /s/<token>/download."""
    return f"/s/{link['token']}{path}"


def link_row(api: httpx.Client, user: User, node_id: str, link_id: str) -> dict[str, Any]:
    listed = api.get(f"/files/{node_id}/links", headers=user.auth)
    assert listed.status_code == 200, listed.text
    return next(dict(link) for link in listed.json() if link["id"] == link_id)


def test_a_file_link_serves_its_bytes_like_an_owner_download(api: httpx.Client, alice: User, events: EventLog) -> None:
    body = content(300_000, seed=11)
    assert put(api, alice, "report.pdf", body).status_code == 201
    node = file_id(api, alice, "report.pdf")
    link = make_link(api, alice, node)
    assert set(link) >= {"id", "url", "token", "expires_at", "max_downloads", "downloads", "has_password"}
    assert urlsplit(link["url"]).path == f"/s/{link['token']}"
    assert len(link["token"]) == 43 and (link["downloads"], link["has_password"], link["upload_only"]) == (
        0,
        False,
        False,
    )

    page = api.get(share("", link))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "report.pdf" in page.text and "293.0 KiB" in page.text and f"/s/{link['token']}/download" in page.text
    assert alice.name not in page.text  # the page names the file, not its owner's namespace

    owner_copy = api.get(f"/users/{alice.name}/files/report.pdf", headers=alice.auth)
    got = api.get(share("/download", link))
    assert (got.status_code, got.content) == (200, body)
    for header in ("etag", "content-disposition", "content-length", "accept-ranges"):
        assert got.headers[header] == owner_copy.headers[header], header
    assert "set-cookie" in got.headers  # the ticket of a counted download
    ranged = api.get(share("/download", link), headers={"Range": "bytes=100-199"})
    assert (ranged.status_code, ranged.content) == (206, body[100:200])
    assert ranged.headers["content-range"] == f"bytes 100-199/{len(body)}"
    assert api.get(share("/download", link), headers={"If-None-Match": got.headers["etag"]}).status_code == 304
    head = api.head(share("/download", link))
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(body)))

    # The whole file once; the range from byte 100, the 304, the HEAD and the page count nothing.
    assert link_row(api, alice, node, link["id"])["downloads"] == 1
    published = events.wait_for(lambda e: e["type"] == "download" and e.get("link_id") == link["id"], 2)
    assert sorted(e["size"] for e in published) == [100, len(body)]
    assert all(e["actor"] == f"link:{link['id']}" and e["owner"] == alice.name for e in published)
    assert all(e["client_address"] == "127.0.0.1" and e["file_id"] == node for e in published)
    created = events.wait_for(lambda e: e["type"] == "link_created" and e.get("link_id") == link["id"], 1)
    assert created and created[0]["path"] == "report.pdf"


def test_only_the_tokens_hash_and_the_passwords_argon2_hash_are_stored(
    api: httpx.Client, alice: User, stack: StackInfo
) -> None:
    assert put(api, alice, "secret.txt", b"s").status_code == 201
    link = make_link(api, alice, file_id(api, alice, "secret.txt"), password="open sesame")
    with psycopg.connect(stack.env["DATABASE_URL"]) as database:
        row = database.execute(
            "SELECT token_hash, password_hash, links::text FROM links WHERE id = %s", (link["id"],)
        ).fetchone()
    assert row is not None
    token_hash, password_hash, whole_row = row
    assert token_hash == hashlib.sha256(link["token"].encode()).hexdigest()
    assert password_hash.startswith("$argon2id$")
    assert link["token"] not in whole_row and "open sesame" not in whole_row


def test_a_password_is_asked_by_header_or_by_the_form_and_then_a_cookie(api: httpx.Client, alice: User) -> None:
    assert put(api, alice, "tax.pdf", b"numbers").status_code == 201
    link = make_link(api, alice, file_id(api, alice, "tax.pdf"), password="open sesame")
    assert link["has_password"] is True

    missing = api.get(share("/download", link))
    assert missing.status_code == 401 and error_of(missing)[0] == "link_password_required"
    wrong = api.get(share("/download", link), headers={"X-Link-Password": "not it at all"})
    assert wrong.status_code == 401 and error_of(wrong)[0] == "wrong_link_password"
    right = api.get(share("/download", link), headers={"X-Link-Password": "open sesame"})
    assert (right.status_code, right.content) == (200, b"numbers")

    with httpx.Client(base_url=str(api.base_url), timeout=30) as browser:
        form = browser.get(share("", link))
        assert form.status_code == 200 and 'type="password"' in form.text and "tax.pdf" not in form.text
        refused = browser.post(share("", link), data={"password": "guess one"})
        assert refused.status_code == 401 and "wrong password" in refused.text and 'type="password"' in refused.text
        accepted = browser.post(share("", link), data={"password": "open sesame"})
        assert accepted.status_code == 303 and accepted.headers["location"] == f"/s/{link['token']}"
        cookie = accepted.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert f"Path=/s/{link['token']}" in cookie
        assert "tax.pdf" in browser.get(share("", link)).text
        assert browser.get(share("/download", link)).content == b"numbers"
    # The cookie is signed for this link: another link of the same password does not accept it.
    other = make_link(api, alice, file_id(api, alice, "tax.pdf"), password="open sesame")
    stolen = {"liftbit_link_pass": cookie.split(";")[0].split("=", 1)[1]}
    assert api.get(share("/download", other), cookies=stolen).status_code == 401


def test_wrong_passwords_are_throttled_per_link_and_address(api: httpx.Client, alice: User) -> None:
    assert put(api, alice, "guarded.txt", b"g").status_code == 201
    link = make_link(api, alice, file_id(api, alice, "guarded.txt"), password="open sesame")
    statuses = [
        api.get(share("/download", link), headers={"X-Link-Password": f"guess {n}"}).status_code for n in range(8)
    ]
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:], statuses
    throttled = api.get(share("/download", link), headers={"X-Link-Password": "open sesame"})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert "wrong passwords" in error_of(throttled)[1]
    # Another address is not held back by this one's guesses.
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.7"), base_url=str(api.base_url)) as other:
        fine = other.get(share("/download", link), headers={"X-Link-Password": "open sesame"})
        assert (fine.status_code, fine.content) == (200, b"g")


def test_twenty_parallel_downloads_of_a_three_download_link_give_exactly_three(api: httpx.Client, alice: User) -> None:
    body = content(64 * 1024, seed=3)
    assert put(api, alice, "limited.bin", body).status_code == 201
    node = file_id(api, alice, "limited.bin")
    link = make_link(api, alice, node, max_downloads=3)
    barrier = threading.Barrier(20)

    def fetch(_: int) -> tuple[int, bytes]:
        with httpx.Client(base_url=str(api.base_url), timeout=60) as client:
            barrier.wait()
            answer = client.get(share("/download", link))
            return answer.status_code, answer.content

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(fetch, range(20)))
    assert sorted(status for status, _ in answers) == [200] * 3 + [410] * 17
    assert all(data == body for status, data in answers if status == 200)
    assert link_row(api, alice, node, link["id"])["downloads"] == 3
    refused = api.get(share("/download", link))
    assert refused.status_code == 410 and error_of(refused)[0] == "link_used_up"
    assert "used up" in api.get(share("", link)).text


def test_a_limit_of_one_survives_previews_heads_and_ranges_and_the_ticket_resumes(
    api: httpx.Client, alice: User
) -> None:
    body = content(100_000, seed=4)
    assert put(api, alice, "once.mp4", body).status_code == 201
    node = file_id(api, alice, "once.mp4")
    link = make_link(api, alice, node, max_downloads=1)
    # A link preview bot fetching the page, HEADs, a 304 and a range from the middle: none count.
    assert api.get(share("", link), headers={"User-Agent": "Slackbot-LinkExpanding 1.0"}).status_code == 200
    assert api.head(share("/download", link)).status_code == 200
    middle = api.get(share("/download", link), headers={"Range": "bytes=5000-5999"})
    assert (middle.status_code, middle.content) == (206, body[5000:6000])
    etag = middle.headers["etag"]
    assert api.get(share("/download", link), headers={"If-None-Match": etag}).status_code == 304
    assert link_row(api, alice, node, link["id"])["downloads"] == 0

    with httpx.Client(base_url=str(api.base_url), timeout=30) as player:
        first = player.get(share("/download", link), headers={"Range": "bytes=0-999"})  # counts: starts at 0
        assert (first.status_code, first.content) == (206, body[:1000])
        # The same client seeks and resumes under its ticket, after the limit was reached.
        seek = player.get(share("/download", link), headers={"Range": "bytes=50000-"})
        assert (seek.status_code, seek.content) == (206, body[50000:])
        again = player.get(share("/download", link))
        assert (again.status_code, again.content) == (200, body)
    assert link_row(api, alice, node, link["id"])["downloads"] == 1
    # Anyone else: used up, also for ranges.
    for headers in ({}, {"Range": "bytes=50000-"}):
        refused = api.get(share("/download", link), headers=headers)
        assert refused.status_code == 410 and error_of(refused)[0] == "link_used_up"


def test_a_folder_link_lists_and_serves_only_what_is_below_its_folder(api: httpx.Client, alice: User) -> None:
    for path, body in {
        "work/shared/a.txt": b"aaa",
        "work/shared/sub/b.txt": b"bbb",
        "work/shared-private/x.txt": b"sibling with the same prefix",
        "work/private.txt": b"above",
    }.items():
        assert put(api, alice, path, body).status_code == 201
    link = make_link(api, alice, folder_id(api, alice, "work/shared"))
    page = api.get(share("", link))
    assert page.status_code == 200
    assert "a.txt" in page.text and "sub/" in page.text and f"/s/{link['token']}/files/a.txt" in page.text
    assert "work" not in page.text.replace("shared", "") and "private" not in page.text
    sub = api.get(share("", link), params={"path": "sub"})
    assert sub.status_code == 200 and "b.txt" in sub.text and "a.txt" not in sub.text
    assert api.get(share("/files/sub/b.txt", link)).content == b"bbb"
    assert api.get(share("/files/a.txt", link)).content == b"aaa"

    for escape in (
        "/files/../private.txt",
        "/files/%2e%2e/private.txt",
        "/files/..%2Fprivate.txt",
        "/files/%2E%2E%2Fshared-private%2Fx.txt",
        "/files/../shared-private/x.txt",
    ):
        answer = api.get(share(escape, link))
        assert answer.status_code in (404, 422), (escape, answer.status_code)
        assert b"above" not in answer.content and b"sibling" not in answer.content
    outside = api.get(share("", link), params={"path": "../shared-private"})
    assert outside.status_code == 422 and "sibling" not in outside.text
    missing = api.get(share("/files/nothing.txt", link))
    assert missing.status_code == 404
    folder_as_file = api.get(share("/files/sub", link))
    assert folder_as_file.status_code == 404 and error_of(folder_as_file)[0] == "not_a_file"
    whole = api.get(share("/download", link))  # a folder has no single download
    assert whole.status_code == 404 and "its page lists the files" in error_of(whole)[1]
    assert "/users/" not in error_of(folder_as_file)[1]  # no hint at the owner's own routes


def test_revoked_links_answer_410_and_a_running_download_finishes(
    api: httpx.Client, alice: User, bob: User, events: EventLog
) -> None:
    body = content(48 * 1024 * 1024, seed=5)
    assert put(api, alice, "big.bin", body).status_code == 201
    node = file_id(api, alice, "big.bin")
    link = make_link(api, alice, node)
    # Only the owner may revoke: to anyone else the link does not exist.
    foreign = api.delete(f"/links/{link['id']}", headers=bob.auth)
    assert foreign.status_code == 404 and error_of(foreign)[0] == "link_not_found"

    digest = hashlib.sha256()
    with api.stream("GET", share("/download", link)) as running:
        assert running.status_code == 200
        chunks = running.iter_bytes(1024 * 1024)
        digest.update(next(chunks))
        assert api.delete(f"/links/{link['id']}", headers=alice.auth).status_code == 204
        for chunk in chunks:
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(body).hexdigest()
    after = api.get(share("/download", link))
    assert after.status_code == 410 and error_of(after)[0] == "link_revoked"
    assert "revoked" in api.get(share("", link)).text
    assert api.delete(f"/links/{link['id']}", headers=alice.auth).status_code == 404
    assert [listed["id"] for listed in api.get(f"/files/{node}/links", headers=alice.auth).json()] == []
    revoked = events.wait_for(lambda e: e["type"] == "link_revoked" and e.get("link_id") == link["id"], 1)
    assert revoked and revoked[0]["actor"] == alice.name


def test_links_of_a_deleted_file_answer_410_until_it_is_restored(api: httpx.Client, alice: User) -> None:
    assert put(api, alice, "doomed.txt", b"d").status_code == 201
    link = make_link(api, alice, file_id(api, alice, "doomed.txt"))
    assert api.delete(f"/users/{alice.name}/files/doomed.txt", headers=alice.auth).status_code == 204
    trashed = api.get(share("/download", link))
    assert trashed.status_code == 410 and error_of(trashed)[0] == "link_target_gone"
    entry = api.get(f"/users/{alice.name}/trash", headers=alice.auth).json()["items"][0]
    assert api.post(f"/users/{alice.name}/trash/{entry['id']}/restore", headers=alice.auth).status_code == 200
    assert api.get(share("/download", link)).content == b"d"
    assert api.delete(f"/users/{alice.name}/files/doomed.txt", headers=alice.auth).status_code == 204
    assert api.delete(f"/users/{alice.name}/trash", headers=alice.auth).status_code == 204
    purged = api.get(share("/download", link))
    assert purged.status_code == 410 and error_of(purged)[0] == "link_target_gone"
    assert api.get(share("", link)).status_code == 410


def test_expired_links_answer_410(api: httpx.Client, alice: User, stack: StackInfo) -> None:
    assert put(api, alice, "soon.txt", b"s").status_code == 201
    expires = datetime.now(UTC) + timedelta(hours=1)
    link = make_link(api, alice, file_id(api, alice, "soon.txt"), expires_at=expires.isoformat())
    assert datetime.fromisoformat(link["expires_at"]) == expires
    assert api.get(share("/download", link)).status_code == 200
    with psycopg.connect(stack.env["DATABASE_URL"]) as database:  # an hour later
        database.execute("UPDATE links SET expires_at = now() - interval '1 second' WHERE id = %s", (link["id"],))
    expired = api.get(share("/download", link))
    assert expired.status_code == 410 and error_of(expired)[0] == "link_expired"
    assert "expired" in error_of(expired)[1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at: must be in the future"),
        ({"max_downloads": 0}, "max_downloads"),
        ({"max_downloads": -3}, "max_downloads"),
        ({"password": "short"}, "password"),
        ({"upload_only": True}, "upload_only: a file request needs a folder"),
        ({"max_uses": 3}, "max_uses"),
        ({"expires_at": "tomorrow"}, "expires_at"),
    ],
)
def test_bad_link_requests_are_refused_with_a_message(
    api: httpx.Client, alice: User, options: dict[str, Any], message: str
) -> None:
    assert put(api, alice, "f.txt", b"f").status_code == 201
    refused = api.post(f"/files/{file_id(api, alice, 'f.txt')}/links", json=options, headers=alice.auth)
    assert refused.status_code == 422, refused.text
    assert message in error_of(refused)[1]


def test_links_on_someone_elses_file_and_unknown_tokens_are_404(api: httpx.Client, alice: User, bob: User) -> None:
    assert put(api, alice, "mine.txt", b"m").status_code == 201
    node = file_id(api, alice, "mine.txt")
    strangers = api.post(f"/files/{node}/links", json={}, headers=bob.auth)
    assert strangers.status_code == 404 and error_of(strangers)[0] == "file_not_found"
    assert api.get(f"/files/{node}/links", headers=bob.auth).status_code == 404
    assert api.post(f"/files/{node}/links", json={}).status_code == 401
    # A grantee knows the file exists, and still may not share it further.
    assert api.put(f"/files/{node}/permissions/{bob.name}", headers=alice.auth).status_code == 204
    assert api.post(f"/files/{node}/links", json={}, headers=bob.auth).status_code == 403
    link = make_link(api, alice, node)
    wrong_char = link["token"][:-1] + "!"
    for token in ("x", link["token"][:-1], link["token"] + "A", wrong_char, "A" * 43, "A" * 300):
        answer = api.get(f"/s/{token}/download")
        assert answer.status_code == 404 and error_of(answer)[0] == "link_not_found", token
    page = api.get("/s/" + "A" * 43)
    assert page.status_code == 404 and "no such link" in page.text


def test_a_link_page_is_a_page_for_people(api: httpx.Client, alice: User) -> None:
    assert put(api, alice, 'odd <name> & "quotes".txt', b"q").status_code == 201
    link = make_link(api, alice, file_id(api, alice, 'odd <name> & "quotes".txt'))
    page = api.get(share("", link))
    assert "odd &lt;name&gt; &amp; &#34;quotes&#34;.txt" in page.text  # escaped, never markup
    assert re.search(r"<script", page.text) is None  # no scripts: nothing for the CSP to allow
    assert page.headers["x-frame-options"] == "DENY" and "default-src 'self'" in page.headers["content-security-policy"]
    assert '<meta name="robots" content="noindex, nofollow">' in page.text


def tus_metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def tus_create(api: httpx.Client, base: str, length: int, **metadata: str) -> httpx.Response:
    headers = TUS | {"Upload-Length": str(length), "Upload-Metadata": tus_metadata(**metadata)}
    return api.post(f"{base}/uploads/", headers=headers)


def tus_patch(api: httpx.Client, location: str, offset: int, body: bytes) -> httpx.Response:
    headers = TUS | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    return api.patch(location, content=body, headers=headers)


def test_a_file_request_takes_uploads_and_shows_nothing(
    api: httpx.Client, stack: StackInfo, alice: User, events: EventLog, tmp_path: Path
) -> None:
    assert put(api, alice, "inbox/report.txt", b"the owner's own report").status_code == 201
    assert put(api, alice, "outside.txt", b"not for uploaders").status_code == 201
    link = make_link(api, alice, folder_id(api, alice, "inbox"), upload_only=True)
    assert link["upload_only"] is True
    used_before = api.get(f"/users/{alice.name}", headers=alice.auth).json()["used_bytes"]
    base = share("", link)

    # Two parts through tus, the second after asking where to resume.
    body = content(9 * 1024 * 1024 + 17, seed=21)
    created = tus_create(api, base, len(body), filename="report.txt", uploader="Dana from Acme")
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert urlsplit(location).path.startswith(f"/s/{link['token']}/uploads/")
    assert tus_patch(api, location, 0, body[:5_000_000]).status_code == 204
    offset = int(api.head(location, headers=TUS).headers["upload-offset"])
    assert 0 < offset <= 5_000_000
    assert tus_patch(api, location, offset, body[offset:]).status_code == 204

    # The name was taken: the owner's file stays, the upload lands beside it.
    assert (
        api.get(f"/users/{alice.name}/files/inbox/report.txt", headers=alice.auth).content == b"the owner's own report"
    )
    landed = api.get(f"/users/{alice.name}/files/inbox/report (2).txt", headers=alice.auth)
    assert (landed.status_code, landed.content == body) == (200, True)
    used_after = api.get(f"/users/{alice.name}", headers=alice.auth).json()["used_bytes"]
    assert used_after == used_before + len(body)  # on the owner's quota
    upload_event = events.wait_for(
        lambda e: e["type"] == "upload" and e["path"] == "inbox/report (2).txt" and e["owner"] == alice.name, 1
    )
    assert upload_event and upload_event[0]["actor"] == f"link:{link['id']}"
    assert upload_event[0]["uploader"] == "Dana from Acme" and upload_event[0]["owner"] == alice.name

    # The official tus client, through the link, with a folder in the name.
    source = tmp_path / "photo.jpg"
    source.write_bytes(content(300_000, seed=22))
    client = TusClient(f"{stack.url}{base}/uploads/")
    client.uploader(str(source), chunk_size=100_000, metadata={"filename": "trip/photo.jpg"}).upload()
    assert api.get(f"/users/{alice.name}/files/inbox/trip/photo.jpg", headers=alice.auth).content == source.read_bytes()

    # Uploaders see and fetch nothing: no listing, no download, no escape from the folder.
    page = api.get(base)
    assert page.status_code == 200 and "report.txt" not in page.text and "accepts uploads only" in page.text
    for path in ("/download", "/files/report.txt", "/files/report (2).txt"):
        refused = api.get(share(path, link))
        assert refused.status_code == 403 and error_of(refused)[0] == "upload_only_link", path
    escaped = tus_create(api, base, 3, filename="../outside.txt")
    assert escaped.status_code == 422, escaped.text
    assert api.get(f"/users/{alice.name}/files/outside.txt", headers=alice.auth).content == b"not for uploaders"


def test_a_file_request_continues_only_its_own_uploads(api: httpx.Client, alice: User) -> None:
    inbox = folder_id(api, alice, "requests")
    link = make_link(api, alice, inbox, upload_only=True)
    other = make_link(api, alice, inbox, upload_only=True)
    # The owner's own unfinished upload, by its id, through the link: unknown there.
    own = api.post(
        "/uploads/",
        headers=alice.auth | TUS | {"Upload-Length": "10", "Upload-Metadata": tus_metadata(filename="mine.bin")},
    )
    assert own.status_code == 201
    own_id = own.headers["location"].rsplit("/", 1)[-1]
    through_link = api.head(share(f"/uploads/{own_id}", link), headers=TUS)
    assert through_link.status_code == 404
    started = tus_create(api, share("", link), 4, filename="a.bin")
    upload_id = started.headers["location"].rsplit("/", 1)[-1]
    assert api.head(share(f"/uploads/{upload_id}", other), headers=TUS).status_code == 404
    assert tus_patch(api, share(f"/uploads/{upload_id}", other), 0, b"evil").status_code == 404
    # A link that is not a file request takes no uploads; a revoked one neither.
    readable = make_link(api, alice, inbox)
    refused = tus_create(api, share("", readable), 4, filename="b.bin")
    assert refused.status_code == 403 and error_of(refused)[0] == "not_an_upload_link"
    assert api.delete(f"/links/{link['id']}", headers=alice.auth).status_code == 204
    revoked = tus_patch(api, share(f"/uploads/{upload_id}", link), 0, b"data")
    assert revoked.status_code == 410 and error_of(revoked)[0] == "link_revoked"


def test_a_file_request_page_takes_a_file_from_a_browser_form(api: httpx.Client, alice: User) -> None:
    assert put(api, alice, "drop/notes.txt", b"the owner's").status_code == 201
    link = make_link(api, alice, folder_id(api, alice, "drop"), upload_only=True, password="open sesame")
    with httpx.Client(base_url=str(api.base_url), timeout=30) as browser:
        assert 'type="password"' in browser.get(share("", link)).text
        assert browser.post(share("", link), data={"password": "open sesame"}).status_code == 303
        page = browser.get(share("", link))
        assert 'enctype="multipart/form-data"' in page.text and "notes.txt" not in page.text
        sent = browser.post(share("/upload", link), files={"file": ("notes.txt", b"from a visitor", "text/plain")})
        assert sent.status_code == 200 and "Received: notes (2).txt" in sent.text
        escaping = browser.post(share("/upload", link), files={"file": ("../x.txt", b"x", "text/plain")})
        assert escaping.status_code == 422 and "Send a file" in escaping.text
    # Without the password's cookie the form is refused, as a page.
    refused = api.post(share("/upload", link), files={"file": ("y.txt", b"y", "text/plain")})
    assert refused.status_code == 401 and "password" in refused.text
    assert api.get(f"/users/{alice.name}/files/drop/notes (2).txt", headers=alice.auth).content == b"from a visitor"
    assert api.get(f"/users/{alice.name}/files/drop/notes.txt", headers=alice.auth).content == b"the owner's"


def stats_when(api: httpx.Client, user: User, node: str, downloads: int, timeout: float = 120) -> dict[str, Any]:
    """/files/{id}/stats once the analytics job counted ``downloads`` (it runs every second here)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = api.get(f"/files/{node}/stats", headers=user.auth)
        assert answer.status_code == 200, answer.text
        stats = dict(answer.json())
        if stats["downloads"] >= downloads or time.monotonic() > deadline:
            return stats
        time.sleep(0.5)


def test_owners_see_each_files_downloads_per_window_and_per_link(api: httpx.Client, alice: User, bob: User) -> None:
    body = content(10_000, seed=31)
    assert put(api, alice, "stats/report.pdf", body).status_code == 201
    assert put(api, alice, "stats/other.txt", b"o").status_code == 201
    node = file_id(api, alice, "stats/report.pdf")
    first, second = make_link(api, alice, node), make_link(api, alice, node)
    folder_link = make_link(api, alice, folder_id(api, alice, "stats"))
    for address in ("127.0.0.11", "127.0.0.12"):
        with httpx.Client(base_url=str(api.base_url), transport=httpx.HTTPTransport(local_address=address)) as c:
            assert c.get(share("/download", first)).content == body
    assert api.get(share("/download", second), headers={"Range": "bytes=0-99"}).status_code == 206
    assert api.get(share("/files/report.pdf", folder_link)).content == body
    assert api.get(share("/files/other.txt", folder_link)).content == b"o"
    assert api.get(f"/users/{alice.name}/files/stats/report.pdf", headers=alice.auth).content == body
    assert api.delete(f"/links/{second['id']}", headers=alice.auth).status_code == 204  # its downloads stay counted

    stats = stats_when(api, alice, node, 5)
    assert (stats["downloads"], stats["bytes"]) == (5, 4 * len(body) + 100)
    assert sum(w["downloads"] for w in stats["windows"]) == 5
    per_link = {link["link_id"]: link for link in stats["links"]}
    assert (per_link[first["id"]]["downloads"], per_link[first["id"]]["addresses"]) == (2, 2)
    assert (per_link[second["id"]]["downloads"], per_link[second["id"]]["bytes"]) == (1, 100)
    assert per_link[folder_link["id"]]["downloads"] == 1  # only this file's download through the folder's link
    assert not any(link["alert"] for link in stats["links"])

    folder_stats = stats_when(api, alice, folder_link["node_id"], 2)
    assert (folder_stats["downloads"], folder_stats["bytes"]) == (2, len(body) + 1)  # through its link only

    since = datetime.now(UTC) + timedelta(hours=1)
    assert api.get(f"/files/{node}/stats", params={"since": since.isoformat()}, headers=alice.auth).json() == {
        "downloads": 0,
        "bytes": 0,
        "windows": [],
        "links": [],
    }
    backwards = api.get(
        f"/files/{node}/stats",
        params={"since": since.isoformat(), "until": (since - timedelta(days=1)).isoformat()},
        headers=alice.auth,
    )
    assert backwards.status_code == 422 and "since must not be after until" in error_of(backwards)[1]
    # The owner's alone: a grantee is told so, anyone else does not learn the file exists.
    assert api.get(f"/files/{node}/stats", headers=bob.auth).status_code == 404
    assert api.put(f"/files/{node}/permissions/{bob.name}", headers=alice.auth).status_code == 204
    assert api.get(f"/files/{node}/stats", headers=bob.auth).status_code == 403
    top = api.get(f"/users/{alice.name}/stats", headers=alice.auth).json()
    assert top["top_files"][0] == {"file_id": node, "path": "stats/report.pdf", "downloads": 5, "bytes": 40_100}
