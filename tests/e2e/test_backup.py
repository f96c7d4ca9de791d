"""Backup of the running session stack, restored into a fresh stack on other ports: every file's
bytes, versions, the trash, grants, share links and logins come back, and every object was checked
against the manifest (scripts/stack/backup.py; `make backup`, `make restore`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import psycopg
import pytest
from psycopg import sql

from scripts.stack.backup import open_store, read_manifest
from scripts.stack.info import StackInfo, read_env_file, run_launcher
from tests.support.cli import fails, shell_of
from tests.support.http import content, put
from tests.support.stack import TEST_STACK_SETTINGS
from tests.support.users import User, register, unique_name


def node_id(api: httpx.Client, user: User, path: str) -> str:
    info = api.get(f"/users/{user.name}/files/{path}/info", headers=user.auth)
    assert info.status_code == 200, info.text
    return str(info.json()["id"])


def row_counts(stack: StackInfo, tables: tuple[str, ...]) -> dict[str, int]:
    counts = {}
    with psycopg.connect(stack.env["DATABASE_URL"]) as db:
        for table in tables:
            row = db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            assert row is not None
            counts[table] = int(row[0])
    return counts


@pytest.fixture
def restored_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "restored"
    yield home
    run_launcher("down", home=home)


@pytest.mark.timeout(600)  # a second whole stack starts, Spark included (~1–2 min on 2 busy cores)
def test_a_backup_of_the_running_stack_restores_into_a_fresh_stack(
    api: httpx.Client, stack: StackInfo, tmp_path: Path, restored_home: Path
) -> None:
    alice, bob = register(api, unique_name("alice")), register(api, unique_name("bob"))
    first, second, photo = b"first version", b"second version", content(3 * 1024 * 1024, seed=7)
    assert put(api, alice, "report.txt", first).status_code == 201
    assert put(api, alice, "report.txt", second).status_code == 200
    assert api.put(f"/users/{alice.name}/files/photos/2024/beach.bin", content=photo, headers=alice.auth).is_success
    assert put(api, alice, "old.txt", b"thrown away").status_code == 201
    assert api.delete(f"/users/{alice.name}/files/old.txt", headers=alice.auth).status_code == 204
    assert put(api, bob, "bob.txt", b"bob's own").status_code == 201
    folder = api.get(f"/users/{alice.name}/folders/photos", headers=alice.auth)
    assert folder.status_code == 200, folder.text
    photos_id = str(api.get(f"/users/{alice.name}/folders", headers=alice.auth).json()["items"][0]["id"])
    granted = api.put(f"/files/{photos_id}/permissions/{bob.name}", headers=alice.auth)
    assert granted.is_success, granted.text
    link = api.post(f"/files/{node_id(api, alice, 'report.txt')}/links", json={}, headers=alice.auth).json()

    backup = tmp_path / "backup"
    made = run_launcher("backup", "--to", str(backup), home=stack.home)
    assert made.returncode == 0, made.stderr
    assert api.get("/health").status_code == 200  # taken while the stack served
    manifest = json.loads((backup / "manifest.json").read_text())
    by_sha = {item["sha256"]: item for item in manifest["objects"]}
    for body in (first, second, photo, b"thrown away", b"bob's own"):
        item = by_sha[hashlib.sha256(body).hexdigest()]
        assert item["size"] == len(body)
        assert (backup / "objects" / item["key"]).read_bytes() == body
    assert (backup / "metadata.dump").stat().st_size > 0
    refused = run_launcher("backup", "--to", str(backup), home=stack.home)
    assert refused.returncode == 1 and "not empty" in refused.stderr

    tables = ("users", "nodes", "versions", "grants", "links", "tokens", "outbox", "download_counts")
    backed_up = row_counts(stack, tables)  # nothing writes to the session stack meanwhile
    restored = run_launcher(
        "restore",
        "--from",
        str(backup),
        "--port-base",
        "auto",
        home=restored_home,
        settings={"LIFTBIT_BIND": "127.0.0.1"} | TEST_STACK_SETTINGS,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"{len(manifest['objects'])} objects" in restored.stdout and "all verified" in restored.stdout
    fresh = StackInfo.read(restored_home)
    assert fresh.url != stack.url
    assert row_counts(fresh, tables) == backed_up
    with httpx.Client(base_url=fresh.url, timeout=60) as new:
        for user in (alice, bob):  # the same passwords log in; tokens issued before the backup still work
            login = new.post("/auth/token", data={"username": user.name, "password": user.password})
            assert login.status_code == 200, login.text
            assert new.get(f"/users/{user.name}", headers=user.auth).status_code == 200
        assert new.get(f"/users/{alice.name}/files/report.txt", headers=alice.auth).content == second
        report = node_id(new, alice, "report.txt")
        versions = new.get(f"/files/{report}/versions", headers=alice.auth).json()
        versions = versions["items"] if isinstance(versions, dict) else versions
        oldest = min(v["version"] for v in versions)
        assert len(versions) == 2
        assert new.get(f"/files/{report}/versions/{oldest}", headers=alice.auth).content == first
        assert new.get(f"/users/{alice.name}/files/photos/2024/beach.bin", headers=bob.auth).content == photo
        grants = new.get(f"/files/{photos_id}/permissions", headers=alice.auth).json()
        assert bob.name in json.dumps(grants)
        trash = new.get(f"/users/{alice.name}/trash", headers=alice.auth).json()
        trash = trash["items"] if isinstance(trash, dict) else trash
        assert [entry["path"] for entry in trash] == ["old.txt"]
        restored_trash = new.post(f"/users/{alice.name}/trash/{trash[0]['id']}/restore", headers=alice.auth)
        assert restored_trash.is_success, restored_trash.text
        assert new.get(f"/users/{alice.name}/files/old.txt", headers=alice.auth).content == b"thrown away"
        assert new.get(f"/s/{link['token']}/download").content == second
        assert new.get(f"/users/{bob.name}/files/bob.txt", headers=bob.auth).content == b"bob's own"
        # The administrator's password is the backed-up stack's (the new home's own is not used).
        admin_password = read_env_file(stack.home / "secrets.env")["LIFTBIT_ADMIN_PASSWORD"]
        admin = new.post("/auth/token", data={"username": "admin", "password": admin_password})
        assert admin.status_code == 200, admin.text
        # The restored stack takes new work as any other.
        assert put(new, bob, "after.txt", b"after the restore").status_code == 201

    again = run_launcher("restore", "--from", str(backup), home=restored_home)
    assert again.returncode == 1 and "not empty" in again.stderr
    (tmp_path / "incomplete").mkdir()
    nothing = run_launcher("restore", "--from", str(tmp_path / "incomplete"), home=tmp_path / "other")
    assert nothing.returncode == 1 and "no complete backup" in nothing.stderr


def test_liftbit_admin_backup_is_make_backup(stack: StackInfo, tmp_path: Path) -> None:
    shell = shell_of(stack, tmp_path, "operator")
    target = tmp_path / "cli-backup"
    shell.ok("admin", "backup", "--to", str(target), "--home", str(stack.home))
    manifest = json.loads((target / "manifest.json").read_text())
    for item in manifest["objects"][:20]:
        assert hashlib.sha256((target / "objects" / item["key"]).read_bytes()).hexdigest() == item["sha256"]
    fails(shell.run("admin", "backup", "--to", str(target), "--home", str(stack.home)), 1, "not empty")
    fails(shell.run("admin", "backup", "--to", str(tmp_path / "x"), "--home", str(tmp_path / "nowhere")), 3, "make up")


def test_a_backup_goes_to_an_s3_bucket_too(
    api: httpx.Client, stack: StackInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """s3://bucket/prefix, reached with boto3's own configuration (here: the stack's own S3 server,
    another bucket)."""
    alice = register(api, unique_name("alice"))
    body = content(2 * 1024 * 1024, seed=11)
    assert put(api, alice, "to-s3.bin", body).status_code == 201
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", stack.env["S3_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", stack.env["S3_KEY_SECRET"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.env["S3_ENDPOINT_URL"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = "liftbit-backups"
    s3 = boto3.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=bucket)
    location = f"s3://{bucket}/{unique_name('nightly')}"
    made = run_launcher("backup", "--to", location, home=stack.home)
    assert made.returncode == 0, made.stderr
    store = open_store(location)
    manifest = read_manifest(store, location)
    [item] = [item for item in manifest.objects if item.sha256 == hashlib.sha256(body).hexdigest()]
    with store.get(f"objects/{item.key}") as stored:
        assert stored.read() == body
    assert store.exists("metadata.dump")
    again = run_launcher("backup", "--to", location, home=stack.home)
    assert again.returncode == 1 and "not empty" in again.stderr
