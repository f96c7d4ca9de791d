"""Team administration against the real stack (Postgres, the broker): the first admin from
secrets.env, invites, quotas, disabling, resets, API tokens and the audit on the topic, and the
team lead's walk-through of the README (minus backup)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from scripts.stack.info import StackInfo, read_env_file
from tests.support.admin import PASSWORD, api_token, invite, log_in, register_invited
from tests.support.cli import Shell, fails, shell_of
from tests.support.events import EventLog
from tests.support.http import error_of, put
from tests.support.stack import after_revocation
from tests.support.users import User, register, unique_name


@pytest.fixture
def admin(api: httpx.Client, stack: StackInfo) -> User:
    """The first admin, with the password the launcher wrote to secrets.env."""
    password = read_env_file(stack.home / "secrets.env")["LIFTBIT_ADMIN_PASSWORD"]
    return log_in(api, "admin", password)


def admin_event(action: str, target: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == action and e["owner"] == target


def test_the_first_admin_exists_and_a_user_gets_403(
    api: httpx.Client, stack: StackInfo, admin: User, alice: User
) -> None:
    listed = api.get("/admin/users", headers=admin.auth)
    assert listed.status_code == 200
    rows = {row["username"]: row for row in listed.json()}
    assert rows["admin"]["role"] == "admin"
    assert rows[alice.name]["role"] == "user"
    assert rows[alice.name]["disabled"] is False
    assert rows[alice.name]["last_login_at"] is not None
    for path in ("/admin/users", "/admin/audit", "/admin/stats"):
        refused = api.get(path, headers=alice.auth)
        assert refused.status_code == 403
        assert error_of(refused)[0] == "admin_only"
    assert api.post("/admin/invites", json={}, headers=alice.auth).status_code == 403
    logs = "".join(p.read_text(errors="replace") for p in (stack.home / "logs").glob("*.log"))
    assert admin.password not in logs


def test_the_last_admin_cannot_disable_themself(api: httpx.Client, admin: User) -> None:
    refused = api.post("/admin/users/admin/disable", headers=admin.auth)
    assert refused.status_code == 409
    assert error_of(refused)[0] == "last_admin"
    assert api.get("/admin/users", headers=admin.auth).status_code == 200


def test_an_invite_is_single_use_and_expires(api: httpx.Client, stack: StackInfo, admin: User) -> None:
    first = invite(api, admin, quota_bytes=2048)
    invited = register_invited(api, first["token"])
    rows = {r["username"]: r for r in api.get("/admin/users", headers=admin.auth).json()}
    assert rows[invited.name]["quota_bytes"] == 2048
    reused = api.post("/users", json={"username": unique_name(), "password": PASSWORD, "invite": first["token"]})
    assert reused.status_code == 410
    assert error_of(reused)[0] == "invite_used"

    second = invite(api, admin)
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as db:
        db.execute("UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = %s", (second["id"],))
    expired = api.post("/users", json={"username": unique_name(), "password": PASSWORD, "invite": second["token"]})
    assert expired.status_code == 410
    assert error_of(expired)[0] == "invite_expired"
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as db:
        stored = db.execute("SELECT token_hash FROM invites WHERE id = %s", (second["id"],)).fetchone()
    assert stored == (hashlib.sha256(second["token"].encode()).hexdigest(),)  # hashed, never the token


def test_a_reset_token_works_once_and_is_audited(api: httpx.Client, admin: User, alice: User, events: EventLog) -> None:
    issued = api.post(f"/admin/users/{alice.name}/reset", headers=admin.auth)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert api.post("/auth/reset", json={"token": token, "new_password": "a fresh start now"}).status_code == 204
    after_revocation()
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 401  # every session ended
    log_in(api, alice.name, "a fresh start now")
    reused = api.post("/auth/reset", json={"token": token, "new_password": "yet another one"})
    assert reused.status_code == 410
    assert error_of(reused)[0] == "reset_used"
    [event] = events.wait_for(admin_event("password_reset_issued", alice.name), 1)
    assert event["actor"] == "admin"


def test_password_change_and_sessions(api: httpx.Client, alice: User) -> None:
    other = log_in(api, alice.name, alice.password)
    listed = api.get(f"/users/{alice.name}/sessions", headers=alice.auth)
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 2
    assert all(s["client"] and "127.0.0.1" in s["client"] for s in sessions)
    assert [s["current"] for s in sessions].count(True) == 1
    assert all(s["last_used_at"] is not None for s in sessions if s["current"])
    common = api.post(
        f"/users/{alice.name}/password",
        json={"current_password": alice.password, "new_password": "password123"},
        headers=alice.auth,
    )
    assert common.status_code == 422
    changed = api.post(
        f"/users/{alice.name}/password",
        json={"current_password": alice.password, "new_password": "a much better one"},
        headers=alice.auth,
    )
    assert changed.status_code == 204
    after_revocation()
    assert api.get(f"/users/{alice.name}", headers=other.auth).status_code == 401
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 200
    assert len(api.get(f"/users/{alice.name}/sessions", headers=alice.auth).json()) == 1


def test_a_read_token_reads_and_gets_403_on_uploads(api: httpx.Client, alice: User) -> None:
    assert put(api, alice, "report.txt", b"numbers").status_code == 201
    reader, created = api_token(api, alice, "read")
    assert api.get(f"/users/{alice.name}/files/report.txt", headers=reader.auth).content == b"numbers"
    refused = put(api, reader, "sneaky.txt", b"x")
    assert refused.status_code == 403
    code, message = error_of(refused)
    assert code == "read_only_token"
    assert "'read'" in message
    tus = api.post("/uploads/", headers=reader.auth | {"Tus-Resumable": "1.0.0", "Upload-Length": "1"})
    assert tus.status_code == 403
    writer, _ = api_token(api, alice, "full", name="uploader")
    assert put(api, writer, "by-token.txt", b"ok").status_code == 201
    tus_ok = api.post(
        "/uploads/",
        headers=writer.auth
        | {"Tus-Resumable": "1.0.0", "Upload-Length": "2", "Upload-Metadata": "filename dHVzLnR4dA=="},
    )
    assert tus_ok.status_code == 201
    assert api.delete(f"/users/{alice.name}/api-tokens/{created['id']}", headers=alice.auth).status_code == 204
    after_revocation()
    assert api.get(f"/users/{alice.name}/files/report.txt", headers=reader.auth).status_code == 401


def test_a_quota_below_usage_refuses_uploads_with_413(
    api: httpx.Client, admin: User, alice: User, events: EventLog
) -> None:
    assert put(api, alice, "big.bin", b"x" * 1000).status_code == 201
    lowered = api.put(f"/admin/users/{alice.name}/quota", json={"quota_bytes": 500}, headers=admin.auth)
    assert lowered.status_code == 200
    assert (lowered.json()["quota_bytes"], lowered.json()["used_bytes"]) == (500, 1000)
    refused = put(api, alice, "more.bin", b"y")
    assert refused.status_code == 413
    assert error_of(refused)[0] == "quota_exceeded"
    assert api.get(f"/users/{alice.name}/files/big.bin", headers=alice.auth).status_code == 200
    [event] = events.wait_for(admin_event("quota_changed", alice.name), 1)
    assert (event["actor"], event["size"]) == ("admin", 0)
    assert "quota_bytes=500" in event["detail"]


def test_an_admin_deletes_a_user_and_gets_a_report(
    api: httpx.Client, admin: User, alice: User, events: EventLog
) -> None:
    put(api, alice, "docs/a.txt", b"aaa")
    put(api, alice, "docs/a.txt", b"aaaa")
    deleted = api.delete(f"/admin/users/{alice.name}", headers=admin.auth)
    assert deleted.status_code == 200
    report = deleted.json()
    assert (report["files"], report["folders"], report["bytes"], report["versions"]) == (1, 1, 4, 1)
    assert report["objects"] == 2
    after_revocation()
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 401
    assert events.wait_for(admin_event("user_deleted", alice.name), 1)[0]["actor"] == "admin"
    assert api.delete("/admin/users/admin", headers=admin.auth).status_code == 409


def test_platform_stats(api: httpx.Client, admin: User, alice: User) -> None:
    before = api.get("/admin/stats", headers=admin.auth).json()
    put(api, alice, "counted.txt", b"12345")
    after = api.get("/admin/stats", headers=admin.auth)
    assert after.status_code == 200
    body = after.json()
    assert body["files"] == before["files"] + 1
    assert body["bytes"] == before["bytes"] + 5
    assert body["uploads_today"] == before["uploads_today"] + 1
    assert body["users"] >= 2
    assert body["admins"] >= 1
    assert body["downloads_today"] >= 0


def test_the_team_lead_walk_through(api: httpx.Client, admin: User, events: EventLog) -> None:
    """README "Running it for a team", minus backup: log in as the admin, invite two people, they
    register, set a quota, disable one: their token stops and their link answers 410."""
    carol_name, dave_name = unique_name("carol"), unique_name("dave")
    for_carol = invite(api, admin, username=carol_name)
    for_dave = invite(api, admin, quota_bytes=10 * 1024**2)
    carol = register_invited(api, for_carol["token"], carol_name)
    dave = register_invited(api, for_dave["token"], dave_name)

    quota = api.put(f"/admin/users/{carol.name}/quota", json={"quota_bytes": 1024**2}, headers=admin.auth)
    assert quota.status_code == 200
    assert quota.json()["quota_bytes"] == 1024**2
    rows = {r["username"]: r for r in api.get("/admin/users", headers=admin.auth).json()}
    assert rows[dave.name]["quota_bytes"] == 10 * 1024**2

    assert put(api, dave, "plan.txt", b"the plan").status_code == 201
    file_id = api.get(f"/users/{dave.name}/files/plan.txt/info", headers=dave.auth).json()["id"]
    link = api.post(f"/files/{file_id}/links", json={}, headers=dave.auth).json()
    assert api.get(f"/s/{link['token']}/download").status_code == 200

    assert api.post(f"/admin/users/{dave.name}/disable", headers=admin.auth).status_code == 204
    after_revocation()
    locked = api.get(f"/users/{dave.name}/files", headers=dave.auth)
    assert locked.status_code == 401
    assert error_of(locked)[0] == "account_disabled"
    gone = api.get(f"/s/{link['token']}/download")
    assert gone.status_code == 410
    assert error_of(gone)[0] == "link_owner_disabled"
    assert api.get(f"/users/{carol.name}/files", headers=carol.auth).status_code == 200

    audit = api.get("/admin/audit", headers=admin.auth).json()
    newest = [(e["action"], e["target"]) for e in audit[:4]]
    assert newest == [
        ("user_disabled", dave.name),
        ("quota_changed", carol.name),
        ("invite_created", ""),
        ("invite_created", carol.name),
    ]
    assert all(e["actor"] == "admin" for e in audit[:4])
    published = events.wait_for(
        lambda e: (
            (e["type"], e["owner"]) in {("user_disabled", dave.name), ("quota_changed", carol.name)}
            or (e["type"] == "invite_created" and e["owner"] == carol.name)
        ),
        3,
    )
    assert {(e["type"], e["owner"]) for e in published} == {
        ("user_disabled", dave.name),
        ("quota_changed", carol.name),
        ("invite_created", carol.name),
    }

    assert api.post(f"/admin/users/{dave.name}/enable", headers=admin.auth).status_code == 204
    assert log_in(api, dave.name, PASSWORD).name == dave.name
    assert api.get(f"/s/{link['token']}/download").status_code == 200


def test_the_cli_administers_and_scripts_use_api_tokens(
    api: httpx.Client, stack: StackInfo, admin: User, tmp_path: Path
) -> None:
    lead = shell_of(stack, tmp_path, "lead")
    lead.login(admin)
    token = lead.ok("admin", "invite", "--quota", "5M").stdout.strip()
    member = register_invited(api, token)
    assert member.name in lead.ok("admin", "users").stdout
    lines = lead.ok("admin", "users", "--json").stdout.splitlines()
    rows = {row["username"]: row for row in map(json.loads, lines)}
    assert rows[member.name]["quota_bytes"] == 5 * 1024**2
    lead.ok("admin", "quota", member.name, "1M")
    lead.ok("admin", "disable", member.name)
    after_revocation()
    assert api.get(f"/users/{member.name}", headers=member.auth).status_code == 401
    lead.ok("admin", "enable", member.name)
    audit = lead.ok("admin", "audit", "--limit", "3").stdout
    assert audit.index("user_enabled") < audit.index("user_disabled") < audit.index("quota_changed")
    assert "user" in lead.ok("admin", "stats").stdout
    fails(lead.run("admin", "disable", "admin"), 6, "last")

    script = shell_of(stack, tmp_path, "script")
    script.login(member)
    reader_token = script.ok("token", "create", "nightly", "--read-only").stdout.strip()
    (script.home / "a.txt").write_bytes(b"from a script")
    with_reader = script.run("put", "a.txt", LIFTBIT_TOKEN=reader_token)
    fails(with_reader, 2, "read")
    assert "nightly" in script.ok("token", "list").stdout
    full = script.ok("token", "create", "uploader").stdout.strip()
    assert script.run("put", "a.txt", LIFTBIT_TOKEN=full).returncode == 0
    listed = script.run("ls", LIFTBIT_TOKEN=reader_token)
    assert listed.returncode == 0
    assert "a.txt" in listed.stdout
    member_users = script.run("admin", "users")
    fails(member_users, 2, "administrators")


def test_a_reset_code_sets_a_new_password_from_the_cli(api: httpx.Client, admin: User, tmp_path: Path) -> None:
    member = register(api, unique_name("forgot"))
    issued = api.post(f"/admin/users/{member.name}/reset", headers=admin.auth)
    assert issued.status_code == 201, issued.text
    code = issued.json()["token"]
    shell = Shell(home=tmp_path, url=str(api.base_url).rstrip("/"))
    done = shell.run("password", "--reset", code, stdin="a brand new long passphrase\n")
    assert done.returncode == 0, done.stderr
    assert "password set" in done.stderr
    login = api.post("/auth/token", data={"username": member.name, "password": "a brand new long passphrase"})
    assert login.status_code == 200, login.text
    after_revocation()
    assert api.get(f"/users/{member.name}", headers=member.auth).status_code == 401  # the old token went
    fails(shell.run("password", "--reset", code, stdin="another long passphrase\n"), 3)
