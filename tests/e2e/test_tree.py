"""The file tree through nginx: folders, move and rename, trash, versions, folder grants, search,
content types, events, and the bad input and races around them."""

from __future__ import annotations

import base64
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import psycopg
import pytest

from tests.support.events import EventLog
from tests.support.http import content, error_of
from tests.support.stack import Stack
from tests.support.users import User, register, unique_name


def put_at(api: httpx.Client, user: User, path: str, body: bytes, **headers: str) -> httpx.Response:
    return api.put(f"/users/{user.name}/files/{path}", content=body, headers=user.auth | headers)


def move(api: httpx.Client, user: User, source: str, target: str) -> httpx.Response:
    return api.post(f"/users/{user.name}/move", json={"from": source, "to": target}, headers=user.auth)


def folder(api: httpx.Client, user: User, path: str = "", reader: User | None = None, **params: Any) -> httpx.Response:
    suffix = f"/{path}" if path else ""
    return api.get(f"/users/{user.name}/folders{suffix}", params=params, headers=(reader or user).auth)


def used_bytes(api: httpx.Client, user: User) -> int:
    return int(api.get(f"/users/{user.name}", headers=user.auth).json()["used_bytes"])


def test_folders_paths_and_listings(api: httpx.Client, alice: User) -> None:
    created = put_at(api, alice, "photos/2024/b.jpg", b"bee")
    assert created.status_code == 201, created.text
    info = created.json()
    assert (info["path"], info["filename"], info["type"], info["content_type"]) == (
        "photos/2024/b.jpg",
        "b.jpg",
        "file",
        "image/jpeg",
    )
    assert put_at(api, alice, "photos/2024/a.jpg", b"a").status_code == 201
    assert put_at(api, alice, "photos/top.txt", b"top!").status_code == 201
    assert api.put(f"/users/{alice.name}/folders/photos/empty", headers=alice.auth).status_code == 201
    again = api.put(f"/users/{alice.name}/folders/photos/empty", headers=alice.auth)
    assert again.status_code == 200
    assert again.json()["item_count"] == 0

    download = api.get(f"/users/{alice.name}/files/photos/2024/b.jpg", headers=alice.auth)
    assert (download.status_code, download.content) == (200, b"bee")
    assert api.head(f"/users/{alice.name}/files/photos/2024/b.jpg", headers=alice.auth).headers["content-length"] == "3"
    assert api.get(f"/users/{alice.name}/files/photos/2024/b.jpg/info", headers=alice.auth).json()["id"] == info["id"]

    top = folder(api, alice).json()
    assert [(i["type"], i["path"], i["item_count"], i["total_size"]) for i in top["items"]] == [
        ("folder", "photos", 3, 8)
    ]
    inside = folder(api, alice, "photos").json()["items"]
    assert [(i["type"], i["path"]) for i in inside] == [
        ("folder", "photos/2024"),
        ("folder", "photos/empty"),
        ("file", "photos/top.txt"),
    ]
    assert inside[0]["item_count"] == 2
    assert inside[0]["total_size"] == 4
    # Pages of one, in name order, to the end.
    seen, cursor = [], None
    while True:
        page = folder(api, alice, "photos", limit=1, **({"cursor": cursor} if cursor else {})).json()
        seen += [i["path"] for i in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [i["path"] for i in inside]
    # Every file, by path, as before; a folder is not a file.
    listed = api.get(f"/users/{alice.name}/files", headers=alice.auth).json()["items"]
    assert [i["path"] for i in listed] == ["photos/2024/a.jpg", "photos/2024/b.jpg", "photos/top.txt"]
    not_a_file = api.get(f"/users/{alice.name}/files/photos", headers=alice.auth)
    assert (not_a_file.status_code, error_of(not_a_file)[0]) == (404, "not_a_file")

    # A path is never a file and a folder; refusals leave nothing behind.
    for refused, code in [
        (put_at(api, alice, "photos", b"x"), "path_is_a_folder"),
        (put_at(api, alice, "photos/top.txt/inner.txt", b"x"), "path_is_a_file"),
        (api.put(f"/users/{alice.name}/folders/photos/top.txt", headers=alice.auth), "path_is_a_file"),
        (api.put(f"/users/{alice.name}/folders/photos/top.txt/sub", headers=alice.auth), "path_is_a_file"),
    ]:
        assert (refused.status_code, error_of(refused)[0]) == (409, code), refused.text
    assert len(api.get(f"/users/{alice.name}/files", headers=alice.auth).json()["items"]) == 3
    assert len(folder(api, alice, "photos").json()["items"]) == 3

    # Multipart: the part's filename may be a path. tus: a path key (or a path in filename).
    form = api.post(f"/users/{alice.name}/files", files={"file": ("docs/form.pdf", b"%PDF", "")}, headers=alice.auth)
    assert (form.status_code, form.json()["path"], form.json()["content_type"]) == (
        201,
        "docs/form.pdf",
        "application/pdf",
    )
    metadata = "path " + base64.b64encode(b"docs/tus/t.bin").decode()
    tus = api.post(
        "/uploads/",
        headers=alice.auth | {"Tus-Resumable": "1.0.0", "Upload-Length": "3", "Upload-Metadata": metadata},
    )
    assert tus.status_code == 201
    patched = api.patch(
        tus.headers["location"],
        content=b"tus",
        headers=alice.auth
        | {"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert patched.status_code == 204
    assert api.get(f"/users/{alice.name}/files/docs/tus/t.bin", headers=alice.auth).content == b"tus"


@pytest.mark.parametrize(
    ("path", "code", "fragment"),
    [
        ("a/%2E%2E/b", "invalid_input", "not allowed"),  # encoded, or the client resolves it
        ("a//b", "invalid_input", "empty segment"),
        ("/".join(["d"] * 65), "path_too_deep", "at most 64 levels"),
        ("a/" + "x" * 256, "invalid_input", "at most 255 bytes"),
        ("a/info", "invalid_input", "not a valid name inside a folder"),
        ("a/permissions", "invalid_input", "not a valid name inside a folder"),
        ("/".join(["y" * 250] * 17), "path_too_long", "at most 4096 bytes"),
    ],
)
def test_bad_paths_are_422_and_store_nothing(
    api: httpx.Client, alice: User, path: str, code: str, fragment: str
) -> None:
    for response in (
        put_at(api, alice, path, b"x"),
        api.put(f"/users/{alice.name}/folders/{path}", headers=alice.auth),
        move(api, alice, "anything", path.replace("%2E", ".")),
    ):
        assert response.status_code == 422, (path, response.text)
        assert error_of(response)[0] == code
        assert fragment in error_of(response)[1]
    assert folder(api, alice).json()["items"] == []


def test_move_and_rename(api: httpx.Client, alice: User, bob: User) -> None:
    file_id = put_at(api, alice, "a/b/c.txt", b"one").json()["id"]
    put_at(api, alice, "a/b/c.txt", b"two")  # a version, which follows the file
    put_at(api, alice, "a/d.txt", b"d")
    assert api.put(f"/files/{file_id}/permissions/{bob.name}", headers=alice.auth).status_code == 204

    renamed = move(api, alice, "a/b/c.txt", "a/b/renamed.txt")
    assert renamed.status_code == 200
    assert (renamed.json()["id"], renamed.json()["filename"]) == (file_id, "renamed.txt")
    moved = move(api, alice, "a", "x/y/a")  # missing folders of the target are created
    assert moved.status_code == 200, moved.text
    assert (moved.json()["type"], moved.json()["path"], moved.json()["total_size"]) == ("folder", "x/y/a", 4)
    assert api.get(f"/users/{alice.name}/files/x/y/a/b/renamed.txt", headers=bob.auth).content == b"two"
    assert api.get(f"/users/{alice.name}/files/a/b/renamed.txt", headers=alice.auth).status_code == 404
    assert [v["version"] for v in api.get(f"/files/{file_id}/versions", headers=alice.auth).json()] == [2, 1]
    assert api.get(f"/files/{file_id}", headers=alice.auth).json()["path"] == "x/y/a/b/renamed.txt"
    paths = [i["path"] for i in api.get(f"/users/{alice.name}/files", headers=alice.auth).json()["items"]]
    assert paths == ["x/y/a/b/renamed.txt", "x/y/a/d.txt"]

    taken = move(api, alice, "x/y/a/d.txt", "x/y/a/b/renamed.txt")
    assert (taken.status_code, error_of(taken)[0]) == (409, "target_exists")
    into_itself = move(api, alice, "x/y", "x/y/a/inner")
    assert (into_itself.status_code, error_of(into_itself)[0]) == (422, "move_into_itself")
    onto_file = move(api, alice, "x/y/a/d.txt", "x/y/a/b/renamed.txt/d.txt")
    assert (onto_file.status_code, error_of(onto_file)[0]) == (409, "path_is_a_file")
    missing = move(api, alice, "nothing/here", "elsewhere")
    assert missing.status_code == 404
    assert api.post(f"/users/{alice.name}/move", json={"from": "x", "to": "z"}, headers=bob.auth).status_code == 403

    # Too deep once moved: the deepest path below counts.
    deep = "/".join(["k"] * 60)
    assert put_at(api, alice, f"{deep}/leaf.txt", b"leaf").status_code == 201
    too_deep = move(api, alice, "k", "m/n/o/p/q/k")
    assert (too_deep.status_code, error_of(too_deep)[0]) == (422, "path_too_deep")


def test_concurrent_moves_onto_one_target_have_one_winner(api: httpx.Client, stack: Stack, alice: User) -> None:
    sources = [f"src{i}.txt" for i in range(6)]
    for name in sources:
        put_at(api, alice, name, name.encode())
    barrier = threading.Barrier(len(sources))

    def attempt(name: str) -> int:
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            barrier.wait()
            return move(client, alice, name, "target.txt").status_code

    with ThreadPoolExecutor(len(sources)) as pool:
        statuses = list(pool.map(attempt, sources))
    assert sorted(statuses) == [200] + [409] * (len(sources) - 1)
    files = {i["path"] for i in api.get(f"/users/{alice.name}/files", headers=alice.auth).json()["items"]}
    winner = sources[statuses.index(200)]
    assert files == {"target.txt"} | (set(sources) - {winner})
    assert api.get(f"/users/{alice.name}/files/target.txt", headers=alice.auth).content == winner.encode()


def test_trash_restore_purge_and_quota(api: httpx.Client, stack: Stack, alice: User) -> None:
    put_at(api, alice, "keep/a.txt", b"aaaa")
    put_at(api, alice, "keep/sub/b.txt", b"bb")
    put_at(api, alice, "single.txt", b"123456")
    assert used_bytes(api, alice) == 12

    assert api.delete(f"/users/{alice.name}/files/single.txt", headers=alice.auth).status_code == 204
    assert api.delete(f"/users/{alice.name}/folders/keep", headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/files/keep/sub/b.txt", headers=alice.auth).status_code == 404
    assert api.get(f"/users/{alice.name}/files", headers=alice.auth).json()["items"] == []
    assert api.get(f"/users/{alice.name}", headers=alice.auth).json()["file_count"] == 0
    assert used_bytes(api, alice) == 12  # the trash counts toward the quota
    trash = api.get(f"/users/{alice.name}/trash", headers=alice.auth).json()["items"]
    assert [(t["type"], t["path"], t["size"]) for t in trash] == [("folder", "keep", 6), ("file", "single.txt", 6)]
    assert all(datetime.fromisoformat(t["deleted_at"]) > datetime.now(UTC) - timedelta(minutes=1) for t in trash)
    folder_entry, file_entry = trash[0]["id"], trash[1]["id"]

    # Restore puts it back whole; onto a taken path it is 409 and stays in the trash.
    restored = api.post(f"/users/{alice.name}/trash/{folder_entry}/restore", headers=alice.auth)
    assert (restored.status_code, restored.json()["path"], restored.json()["total_size"]) == (200, "keep", 6)
    assert api.get(f"/users/{alice.name}/files/keep/sub/b.txt", headers=alice.auth).content == b"bb"
    put_at(api, alice, "single.txt", b"new")
    taken = api.post(f"/users/{alice.name}/trash/{file_entry}/restore", headers=alice.auth)
    assert (taken.status_code, error_of(taken)[0]) == (409, "target_exists")
    assert len(api.get(f"/users/{alice.name}/trash", headers=alice.auth).json()["items"]) == 1

    # Purge one: the bytes leave the quota at once, the object is queued for the reconciler.
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        (key,) = db.execute("SELECT object_key FROM nodes WHERE id = %s", (int(file_entry),)).fetchone() or ("",)
    assert api.delete(f"/users/{alice.name}/trash/{file_entry}", headers=alice.auth).status_code == 204
    assert used_bytes(api, alice) == 9
    assert api.delete(f"/users/{alice.name}/trash/{file_entry}", headers=alice.auth).status_code == 404
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        assert db.execute("SELECT 1 FROM object_deletions WHERE object_key = %s", (key,)).fetchone() is not None

    # Empty all.
    api.delete(f"/users/{alice.name}/folders/keep", headers=alice.auth)
    assert api.delete(f"/users/{alice.name}/trash", headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/trash", headers=alice.auth).json()["items"] == []
    assert used_bytes(api, alice) == 3


def test_the_reconciler_purges_old_trash_with_its_objects(api: httpx.Client, stack: Stack, alice: User) -> None:
    put_at(api, alice, "old/one.txt", b"one")
    put_at(api, alice, "old/one.txt", b"one, again")  # its version goes too
    put_at(api, alice, "recent.txt", b"recent")
    api.delete(f"/users/{alice.name}/folders/old", headers=alice.auth)
    api.delete(f"/users/{alice.name}/files/recent.txt", headers=alice.auth)
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        keys = [
            row[0]
            for row in db.execute(
                "SELECT v.object_key FROM versions v JOIN nodes n ON n.id = v.node_id WHERE n.path = 'old/one.txt' "
                "UNION SELECT object_key FROM nodes WHERE path = 'old/one.txt' AND object_key IS NOT NULL"
            )
        ]
        # 31 days ago, beyond TRASH_RETENTION_DAYS (30).
        db.execute(
            "UPDATE nodes SET deleted_at = now() - interval '31 days' WHERE path LIKE 'old%%' AND owner_id = "
            "(SELECT id FROM users WHERE username = %s)",
            (alice.name,),
        )
    assert len(keys) == 2
    sweep = httpx.post(f"{stack.env['FILES_URL']}/internal/sweep", headers=stack.internal_headers(), timeout=60)
    assert sweep.status_code == 200
    assert sweep.json()["purged_trash_objects"] == 2
    assert [t["path"] for t in api.get(f"/users/{alice.name}/trash", headers=alice.auth).json()["items"]] == [
        "recent.txt"
    ]
    assert used_bytes(api, alice) == len(b"recent")
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.env["S3_ENDPOINT_URL"],
        aws_access_key_id=stack.env["S3_KEY_ID"],
        aws_secret_access_key=stack.env["S3_KEY_SECRET"],
        region_name="us-east-1",
    )
    for key in keys:  # deleted from S3 by the same sweep
        with pytest.raises(s3.exceptions.ClientError):
            s3.head_object(Bucket=stack.env["S3_BUCKET"], Key=key)


def test_versions_keep_every_content(api: httpx.Client, alice: User, bob: User) -> None:
    bodies = [f"content number {i}".encode() for i in range(12)]
    file_id = put_at(api, alice, "v/doc.txt", bodies[0]).json()["id"]
    for body in bodies[1:]:
        assert put_at(api, alice, "v/doc.txt", body).status_code == 200
    versions = api.get(f"/files/{file_id}/versions", headers=alice.auth).json()
    # FILE_VERSIONS_KEPT = 10, the current one included, newest first.
    assert [v["version"] for v in versions] == list(range(12, 2, -1))
    assert versions[0]["current"] is True
    assert [v["sha256"] for v in versions] == [hashlib.sha256(b).hexdigest() for b in reversed(bodies[2:])]
    assert used_bytes(api, alice) == sum(len(b) for b in bodies[2:])  # versions count toward the quota

    old = api.get(f"/files/{file_id}/versions/5", headers=alice.auth)
    assert (old.status_code, old.content) == (200, bodies[4])
    assert old.headers["etag"] == f'"{hashlib.sha256(bodies[4]).hexdigest()}"'
    ranged = api.get(f"/files/{file_id}/versions/5", headers=alice.auth | {"Range": "bytes=0-6"})
    assert (ranged.status_code, ranged.content) == (206, bodies[4][:7])
    assert api.get(f"/files/{file_id}/versions/1", headers=alice.auth).status_code == 404  # dropped
    assert api.get(f"/files/{file_id}/versions/5", headers=bob.auth).status_code == 404

    restored = api.post(f"/files/{file_id}/versions/5/restore", headers=alice.auth)
    assert (restored.status_code, restored.json()["sha256"]) == (200, hashlib.sha256(bodies[4]).hexdigest())
    assert api.get(f"/users/{alice.name}/files/v/doc.txt", headers=alice.auth).content == bodies[4]
    after = api.get(f"/files/{file_id}/versions", headers=alice.auth).json()
    assert after[0]["version"] == 13
    assert after[1]["sha256"] == hashlib.sha256(bodies[11]).hexdigest()  # nothing lost
    assert api.get(f"/files/{file_id}/versions/5", headers=alice.auth).content == bodies[4]

    # A grantee may download a version but not list or restore them.
    api.put(f"/files/{file_id}/permissions/{bob.name}", headers=alice.auth)
    assert api.get(f"/files/{file_id}/versions/5", headers=bob.auth).content == bodies[4]
    assert api.get(f"/files/{file_id}/versions", headers=bob.auth).status_code == 403
    assert api.post(f"/files/{file_id}/versions/5/restore", headers=bob.auth).status_code == 403


def test_concurrent_replaces_keep_every_version(api: httpx.Client, stack: Stack, alice: User) -> None:
    bodies = [content(200_000, seed=i) for i in range(6)]
    file_id = put_at(api, alice, "race.bin", b"first").json()["id"]

    def replace(body: bytes) -> int:
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            return put_at(client, alice, "race.bin", body).status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        assert list(pool.map(replace, bodies)) == [200] * len(bodies)
    versions = api.get(f"/files/{file_id}/versions", headers=alice.auth).json()
    assert [v["version"] for v in versions] == list(range(len(bodies) + 1, 0, -1))
    digests = {hashlib.sha256(b).hexdigest(): b for b in bodies}
    assert {v["sha256"] for v in versions[:-1]} == set(digests)
    for version in versions[:-1]:  # every version intact
        body = api.get(f"/files/{file_id}/versions/{version['version']}", headers=alice.auth).content
        assert body == digests[version["sha256"]]
    # The newest commit wins: the current content is the one with the highest version.
    current = api.get(f"/users/{alice.name}/files/race.bin", headers=alice.auth).content
    assert hashlib.sha256(current).hexdigest() == versions[0]["sha256"]


def test_delete_while_a_download_runs_finishes_it_whole(api: httpx.Client, stack: Stack, alice: User) -> None:
    body = content(16 * 1024 * 1024, seed=7)
    put_at(api, alice, "big/film.bin", body)
    with (
        httpx.Client(base_url=stack.url, timeout=60) as reader,
        reader.stream("GET", f"/users/{alice.name}/files/big/film.bin", headers=alice.auth) as download,
    ):
        assert download.status_code == 200
        chunks = download.iter_bytes(64 * 1024)
        received = [next(chunks)]
        assert api.delete(f"/users/{alice.name}/folders/big", headers=alice.auth).status_code == 204
        assert api.delete(f"/users/{alice.name}/trash", headers=alice.auth).status_code == 204
        received += list(chunks)
    assert b"".join(received) == body
    assert api.get(f"/users/{alice.name}/files/big/film.bin", headers=alice.auth).status_code == 404


def test_folder_grants_cover_everything_below(api: httpx.Client, alice: User, bob: User) -> None:
    team = api.put(f"/users/{alice.name}/folders/team", headers=alice.auth).json()
    put_at(api, alice, "team/plan.txt", b"plan")
    put_at(api, alice, "private.txt", b"mine")
    assert api.put(f"/files/{team['id']}/permissions/{bob.name}", headers=alice.auth).status_code == 204
    assert api.get(f"/files/{team['id']}/permissions", headers=alice.auth).json() == [bob.name]
    put_at(api, alice, "team/later/added.txt", b"added later")

    assert api.get(f"/users/{alice.name}/files/team/plan.txt", headers=bob.auth).content == b"plan"
    assert api.get(f"/users/{alice.name}/files/team/later/added.txt", headers=bob.auth).content == b"added later"
    assert [i["path"] for i in folder(api, alice, "team", reader=bob).json()["items"]] == [
        "team/later",
        "team/plan.txt",
    ]
    assert api.get(f"/users/{alice.name}/files/private.txt", headers=bob.auth).status_code == 404
    assert folder(api, alice, reader=bob).status_code == 403
    shared = api.get(f"/users/{bob.name}/shared", headers=bob.auth).json()
    assert [(s["type"], s["path"]) for s in shared] == [("folder", "team")]
    found = api.get(f"/users/{bob.name}/shared", params={"q": "ADDED"}, headers=bob.auth).json()
    assert [(f["owner"], f["path"]) for f in found] == [(alice.name, "team/later/added.txt")]
    assert api.get(f"/users/{bob.name}/shared", params={"q": "mine"}, headers=bob.auth).json() == []
    # The grant follows the folder when it moves; the trash hides it.
    move(api, alice, "team", "renamed-team")
    assert api.get(f"/users/{alice.name}/files/renamed-team/plan.txt", headers=bob.auth).status_code == 200

    assert api.delete(f"/files/{team['id']}/permissions/{bob.name}", headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/files/renamed-team/plan.txt", headers=bob.auth).status_code == 404
    assert folder(api, alice, "renamed-team", reader=bob).status_code == 404
    assert api.get(f"/users/{bob.name}/shared", headers=bob.auth).json() == []


def test_search_by_name_and_prefix(api: httpx.Client, alice: User, bob: User) -> None:
    for path in ["Reports/Q1 Summary.pdf", "reports/q2 summary.PDF", "misc/100%_done.txt", "misc/1000 done.txt"]:
        assert put_at(api, alice, path.replace("%", "%25"), b"x").status_code == 201
    put_at(api, bob, "summary.txt", b"other user")

    def search(**params: str) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            page = api.get(
                f"/users/{alice.name}/files",
                params=params | {"limit": "1"} | ({"cursor": cursor} if cursor else {}),
                headers=alice.auth,
            ).json()
            found += [i["path"] for i in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                return found

    assert search(q="SUMMARY") == ["Reports/Q1 Summary.pdf", "reports/q2 summary.PDF"]
    assert search(q="0%_") == ["misc/100%_done.txt"]  # % and _ are literal
    assert search(prefix="misc") == ["misc/100%_done.txt", "misc/1000 done.txt"]
    assert search(prefix="reports", q="pdf") == ["reports/q2 summary.PDF"]
    assert search(q="nothing like it") == []


def test_content_type_is_guessed_when_missing_or_curls_default(api: httpx.Client, alice: User) -> None:
    cases = [
        ("guess/report.pdf", {"Content-Type": "application/x-www-form-urlencoded"}, "application/pdf"),
        ("guess/photo.png", {"Content-Type": ""}, "image/png"),
        ("guess/unknown.zzz9", {"Content-Type": ""}, "application/octet-stream"),
        ("guess/data.json", {"Content-Type": "text/x-mine"}, "text/x-mine"),  # the client's explicit type wins
    ]
    for path, headers, expected in cases:
        stored = put_at(api, alice, path, b"data", **headers).json()["content_type"]
        assert stored == expected, path
        assert api.get(f"/users/{alice.name}/files/{path}", headers=alice.auth).headers["content-type"] == expected


def test_tree_events(api: httpx.Client, events: EventLog, alice: User) -> None:
    file_id = put_at(api, alice, "ev/a.txt", b"12345").json()["id"]
    api.get(f"/users/{alice.name}/files/ev/a.txt", headers=alice.auth)
    folder_id = move(api, alice, "ev", "moved").json()["id"]
    api.delete(f"/users/{alice.name}/folders/moved", headers=alice.auth)
    api.post(f"/users/{alice.name}/trash/{folder_id}/restore", headers=alice.auth)
    api.delete(f"/users/{alice.name}/files/moved/a.txt", headers=alice.auth)
    api.delete(f"/users/{alice.name}/trash/{file_id}", headers=alice.auth)
    found = events.of_owner(alice.name, 7)
    assert [(e["type"], e["file_id"], e["path"], e["size"]) for e in found] == [
        ("upload", file_id, "ev/a.txt", 5),
        ("download", file_id, "ev/a.txt", 5),
        ("move", folder_id, "moved", 5),
        ("trash", folder_id, "moved", 5),
        ("restore", folder_id, "moved", 5),
        ("trash", file_id, "moved/a.txt", 5),
        ("purge", file_id, "moved/a.txt", 5),
    ]
    assert {e["schema_version"] for e in found} == {1}
    assert [e["filename"] for e in found] == ["a.txt", "a.txt", "moved", "moved", "moved", "a.txt", "a.txt"]


def test_by_id_routes_hide_what_the_caller_may_not_read(api: httpx.Client, alice: User, bob: User) -> None:
    file_id = put_at(api, alice, "hidden/x.txt", b"x").json()["id"]
    for node_id in (file_id, "999999999999", "not-an-id"):
        for method, path in [("GET", ""), ("GET", "/versions"), ("GET", "/permissions"), ("GET", "/versions/1")]:
            response = api.request(method, f"/files/{node_id}{path}", headers=bob.auth)
            assert response.status_code == 404, (node_id, path, response.text)
    assert api.get(f"/files/{file_id}").status_code == 401
    carol = register(api, unique_name("carol"))
    assert api.put(f"/files/{file_id}/permissions/{carol.name}", headers=bob.auth).status_code == 404
