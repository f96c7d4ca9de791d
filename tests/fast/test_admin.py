"""Team administration in-process: roles, invites, passwords, sessions, API tokens, the admin API
and its audit, around the fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from liftbit_common.rules import token_digest
from tests.support.admin import PASSWORD, api_token, invite, log_in, register_invited
from tests.support.http import error_of, put
from tests.support.in_process import Fakes
from tests.support.users import User, register

ADMIN_PASSWORD = "the admin's own password"


@pytest.fixture
def admin(api: TestClient, fakes: Fakes) -> User:
    fakes.metadata.add_admin("root", ADMIN_PASSWORD)
    return log_in(api, "root", ADMIN_PASSWORD)


def test_a_user_calling_the_admin_api_gets_403(api: TestClient, alice: User, admin: User) -> None:
    for method, path in (
        ("GET", "/admin/users"),
        ("GET", "/admin/audit"),
        ("GET", "/admin/stats"),
        ("POST", "/admin/invites"),
        ("POST", f"/admin/users/{admin.name}/disable"),
    ):
        refused = api.request(method, path, headers=alice.auth, json={} if method == "POST" else None)
        assert refused.status_code == 403, (method, path, refused.text)
        assert error_of(refused)[0] == "admin_only"
    assert api.get("/admin/users").status_code == 401
    listed = api.get("/admin/users", headers=admin.auth)
    assert listed.status_code == 200
    rows = {row["username"]: row for row in listed.json()}
    assert set(rows[alice.name]) >= {
        "username",
        "role",
        "disabled",
        "used_bytes",
        "quota_bytes",
        "file_count",
        "last_login_at",
    }
    assert (rows[alice.name]["role"], rows[admin.name]["role"]) == ("user", "admin")
    assert rows[alice.name]["last_login_at"] is not None


def test_admin_rights_never_come_from_the_request(api: TestClient, fakes: Fakes, alice: User) -> None:
    forged = alice.auth | {"X-Role": "admin", "X-Liftbit-Role": "admin"}
    assert api.get("/admin/users", headers=forged).status_code == 403
    created = api.post("/users", json={"username": "mallory", "password": PASSWORD, "role": "admin"})
    assert created.status_code == 201
    assert fakes.metadata.accounts["mallory"].role == "user"


def test_the_last_admin_cannot_disable_themself_but_can_once_another_admin_exists(
    api: TestClient, admin: User, alice: User
) -> None:
    refused = api.post(f"/admin/users/{admin.name}/disable", headers=admin.auth)
    assert refused.status_code == 409
    assert error_of(refused)[0] == "last_admin"
    assert api.get("/admin/users", headers=admin.auth).status_code == 200  # still an admin
    promoted = api.put(f"/admin/users/{alice.name}/role", json={"role": "admin"}, headers=admin.auth)
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "admin"
    assert api.post(f"/admin/users/{admin.name}/disable", headers=admin.auth).status_code == 204
    assert api.get("/admin/users", headers=admin.auth).status_code == 401  # disabled: the token stops
    assert api.get("/admin/users", headers=alice.auth).status_code == 200


def test_registration_by_invite_is_single_use_and_expires(api: TestClient, fakes: Fakes, admin: User) -> None:
    fakes.metadata.registration = "invite"
    refused = api.post("/users", json={"username": "carol", "password": PASSWORD})
    assert refused.status_code == 403
    assert error_of(refused)[0] == "invite_required"
    first = invite(api, admin, quota_bytes=1234)
    carol = register_invited(api, first["token"], "carol")
    assert fakes.metadata.accounts[carol.name].quota_bytes == 1234
    reused = api.post("/users", json={"username": "dave", "password": PASSWORD, "invite": first["token"]})
    assert reused.status_code == 410
    assert error_of(reused)[0] == "invite_used"

    second = invite(api, admin)
    fakes.metadata.invites[token_digest(second["token"])].expires_at = datetime.now(UTC) - timedelta(seconds=1)
    expired = api.post("/users", json={"username": "dave", "password": PASSWORD, "invite": second["token"]})
    assert expired.status_code == 410
    assert error_of(expired)[0] == "invite_expired"

    fixed = invite(api, admin, username="erin")
    other = api.post("/users", json={"username": "frank", "password": PASSWORD, "invite": fixed["token"]})
    assert other.status_code == 403
    assert error_of(other)[0] == "invite_for_another_user"
    assert register_invited(api, fixed["token"], "erin").name == "erin"
    unknown = api.post("/users", json={"username": "gina", "password": PASSWORD, "invite": "no-such-invite"})
    assert unknown.status_code == 404


def test_closed_registration_refuses_everyone(api: TestClient, fakes: Fakes) -> None:
    fakes.metadata.registration = "closed"
    refused = api.post("/users", json={"username": "carol", "password": PASSWORD})
    assert refused.status_code == 403
    assert error_of(refused)[0] == "registration_closed"


def test_a_common_breached_password_is_refused(api: TestClient, alice: User) -> None:
    for weak in ("password1", "Qwertyuiop", "aaaaaaaaaa"):
        refused = api.post("/users", json={"username": "carol", "password": weak})
        assert refused.status_code == 422, weak
        assert "common" in error_of(refused)[1]
    change = {"current_password": alice.password, "new_password": "iloveyou"}
    assert api.post(f"/users/{alice.name}/password", json=change, headers=alice.auth).status_code == 422


def test_changing_the_password_revokes_every_other_token(api: TestClient, alice: User) -> None:
    other_session = log_in(api, alice.name, alice.password)
    script, _ = api_token(api, alice, "full")
    wrong = api.post(
        f"/users/{alice.name}/password",
        json={"current_password": "not the password", "new_password": "a brand new secret"},
        headers=alice.auth,
    )
    assert wrong.status_code == 403
    assert error_of(wrong)[0] == "wrong_password"
    changed = api.post(
        f"/users/{alice.name}/password",
        json={"current_password": alice.password, "new_password": "a brand new secret"},
        headers=alice.auth,
    )
    assert changed.status_code == 204
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 200  # this token stays
    for revoked in (other_session, script):
        assert api.get(f"/users/{alice.name}", headers=revoked.auth).status_code == 401
    assert api.post("/auth/token", data={"username": alice.name, "password": alice.password}).status_code == 401
    log_in(api, alice.name, "a brand new secret")


def test_an_admin_reset_is_single_use_and_ends_every_session(api: TestClient, admin: User, alice: User) -> None:
    issued = api.post(f"/admin/users/{alice.name}/reset", headers=admin.auth)
    assert issued.status_code == 201
    reset = issued.json()
    assert (reset["username"], bool(reset["token"])) == (alice.name, True)
    done = api.post("/auth/reset", json={"token": reset["token"], "new_password": "reset to this one"})
    assert done.status_code == 204
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 401
    renewed = log_in(api, alice.name, "reset to this one")
    again = api.post("/auth/reset", json={"token": reset["token"], "new_password": "and once more now"})
    assert again.status_code == 410
    assert error_of(again)[0] == "reset_used"
    assert api.post(f"/admin/users/{alice.name}/reset", headers=renewed.auth).status_code == 403


def test_sessions_are_listed_and_revoked_one_or_all(api: TestClient, alice: User) -> None:
    second = log_in(api, alice.name, alice.password)
    third = log_in(api, alice.name, alice.password)
    listed = api.get(f"/users/{alice.name}/sessions", headers=alice.auth)
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 3
    assert [s["current"] for s in sessions].count(True) == 1
    assert set(sessions[0]) >= {"id", "created_at", "last_used_at", "client"}
    others = [s for s in sessions if not s["current"]]
    assert api.delete(f"/users/{alice.name}/sessions/{others[0]['id']}", headers=alice.auth).status_code == 204
    assert api.delete(f"/users/{alice.name}/sessions/{others[0]['id']}", headers=alice.auth).status_code == 404
    statuses = {api.get(f"/users/{alice.name}", headers=u.auth).status_code for u in (second, third)}
    assert statuses == {200, 401}
    assert api.delete(f"/users/{alice.name}/sessions", headers=alice.auth).status_code == 204
    assert {api.get(f"/users/{alice.name}", headers=u.auth).status_code for u in (second, third)} == {401}
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 200
    assert api.get(f"/users/{alice.name}/sessions", headers=second.auth).status_code == 401


def test_a_read_token_reads_but_cannot_write_delete_share_or_link(api: TestClient, alice: User, bob: User) -> None:
    assert put(api, alice, "notes.txt", b"hello").status_code == 201
    reader, created = api_token(api, alice, "read")
    assert api.get(f"/users/{alice.name}/files/notes.txt", headers=reader.auth).status_code == 200
    file_id = api.get(f"/users/{alice.name}/files/notes.txt/info", headers=alice.auth).json()["id"]
    attempts = [
        api.put(f"/users/{alice.name}/files/new.txt", content=b"x", headers=reader.auth),
        api.delete(f"/users/{alice.name}/files/notes.txt", headers=reader.auth),
        api.put(f"/files/{file_id}/permissions/{bob.name}", headers=reader.auth),
        api.post(f"/files/{file_id}/links", json={}, headers=reader.auth),
        api.post("/uploads/", headers=reader.auth | {"Tus-Resumable": "1.0.0", "Upload-Length": "1"}),
        api.post(f"/users/{alice.name}/api-tokens", json={"name": "more", "scope": "full"}, headers=reader.auth),
    ]
    for refused in attempts:
        assert refused.status_code == 403, refused.request.url
        code, message = error_of(refused)
        assert code == "read_only_token"
        assert "'read'" in message
    assert api.get(f"/users/{alice.name}/files/new.txt", headers=alice.auth).status_code == 404

    writer, _ = api_token(api, alice, "full", name="backup")
    assert put(api, writer, "by-script.txt", b"ok").status_code == 201
    listed = api.get(f"/users/{alice.name}/api-tokens", headers=alice.auth).json()
    assert {t["name"] for t in listed} == {"script", "backup"}
    assert all("token" not in t for t in listed)
    assert api.delete(f"/users/{alice.name}/api-tokens/{created['id']}", headers=alice.auth).status_code == 204
    assert api.get(f"/users/{alice.name}/files/notes.txt", headers=reader.auth).status_code == 401
    assert api.get(f"/users/{alice.name}/api-tokens", headers=bob.auth).status_code == 403


def test_a_quota_below_usage_is_allowed_and_uploads_get_413(api: TestClient, admin: User, alice: User) -> None:
    assert put(api, alice, "ten.bin", b"0123456789").status_code == 201
    lowered = api.put(f"/admin/users/{alice.name}/quota", json={"quota_bytes": 5}, headers=admin.auth)
    assert lowered.status_code == 200
    assert (lowered.json()["quota_bytes"], lowered.json()["used_bytes"]) == (5, 10)
    refused = put(api, alice, "more.bin", b"x")
    assert refused.status_code == 413
    assert error_of(refused)[0] == "quota_exceeded"
    assert api.get(f"/users/{alice.name}/files/ten.bin", headers=alice.auth).status_code == 200  # nothing deleted
    unlimited = api.put(f"/admin/users/{alice.name}/quota", json={"quota_bytes": None}, headers=admin.auth)
    assert unlimited.json()["quota_bytes"] is None
    assert put(api, alice, "more.bin", b"x").status_code == 201


def test_a_disabled_user_is_locked_out_and_their_links_are_gone_until_enabled(
    api: TestClient, admin: User, alice: User
) -> None:
    assert put(api, alice, "shared.txt", b"for all").status_code == 201
    file_id = api.get(f"/users/{alice.name}/files/shared.txt/info", headers=alice.auth).json()["id"]
    link = api.post(f"/files/{file_id}/links", json={}, headers=alice.auth).json()
    assert api.post(f"/admin/users/{alice.name}/disable", headers=admin.auth).status_code == 204
    locked = api.get(f"/users/{alice.name}", headers=alice.auth)
    assert locked.status_code == 401
    assert error_of(locked)[0] == "account_disabled"
    login = api.post("/auth/token", data={"username": alice.name, "password": alice.password})
    assert login.status_code == 401
    gone = api.get(f"/s/{link['token']}/download")
    assert gone.status_code == 410
    assert error_of(gone)[0] == "link_owner_disabled"
    rows = {r["username"]: r for r in api.get("/admin/users", headers=admin.auth).json()}
    assert rows[alice.name]["disabled"] is True
    assert rows[alice.name]["file_count"] == 1  # the files stay

    assert api.post(f"/admin/users/{alice.name}/enable", headers=admin.auth).status_code == 204
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 200
    assert api.get(f"/s/{link['token']}/download").status_code in (200, 307)


def test_an_admin_deletes_a_user_with_a_report(api: TestClient, fakes: Fakes, admin: User, alice: User) -> None:
    put(api, alice, "a/one.txt", b"one")
    put(api, alice, "a/one.txt", b"one again")
    deleted = api.delete(f"/admin/users/{alice.name}", headers=admin.auth)
    assert deleted.status_code == 200
    report = deleted.json()
    assert (report["username"], report["files"], report["folders"], report["bytes"]) == (alice.name, 1, 1, 9)
    assert report["versions"] == 1
    assert alice.name not in fakes.metadata.accounts
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 401
    assert api.delete(f"/admin/users/{admin.name}", headers=admin.auth).status_code == 409
    own = api.delete(f"/users/{admin.name}", headers=admin.auth)  # nor by deleting their own account
    assert own.status_code == 409
    assert error_of(own)[0] == "last_admin"


def test_the_audit_lists_admin_actions_newest_first(api: TestClient, admin: User, alice: User) -> None:
    api.post("/admin/invites", json={"username": "zed"}, headers=admin.auth)
    api.put(f"/admin/users/{alice.name}/quota", json={"quota_bytes": 100}, headers=admin.auth)
    api.post(f"/admin/users/{alice.name}/disable", headers=admin.auth)
    api.post(f"/admin/users/{alice.name}/enable", headers=admin.auth)
    api.post(f"/admin/users/{alice.name}/reset", headers=admin.auth)
    audit = api.get("/admin/audit", headers=admin.auth)
    assert audit.status_code == 200
    entries = [(e["actor"], e["action"], e["target"]) for e in audit.json()]
    assert entries == [
        (admin.name, "password_reset_issued", alice.name),
        (admin.name, "user_enabled", alice.name),
        (admin.name, "user_disabled", alice.name),
        (admin.name, "quota_changed", alice.name),
        (admin.name, "invite_created", "zed"),
    ]
    page = api.get("/admin/audit", params={"limit": 2}, headers=admin.auth).json()
    older = api.get("/admin/audit", params={"before": page[-1]["id"]}, headers=admin.auth).json()
    assert [e["action"] for e in page + older] == [e[1] for e in entries]


def test_platform_stats_count_users_files_and_todays_traffic(api: TestClient, admin: User, alice: User) -> None:
    put(api, alice, "a.txt", b"12345")
    api.get(f"/users/{alice.name}/files/a.txt", headers=alice.auth)
    stats = api.get("/admin/stats", headers=admin.auth)
    assert stats.status_code == 200
    body = stats.json()
    assert (body["users"], body["admins"], body["files"], body["bytes"]) == (2, 1, 1, 5)
    assert body["uploads_today"] == 1
    assert set(body) >= {"downloads_today", "download_bytes_today", "disabled_users"}


def test_a_user_cannot_manage_anothers_password_sessions_or_tokens(api: TestClient, alice: User) -> None:
    bob = register(api, "bobby")
    change = {"current_password": bob.password, "new_password": "a brand new secret"}
    assert api.post(f"/users/{bob.name}/password", json=change, headers=alice.auth).status_code == 403
    assert api.get(f"/users/{bob.name}/sessions", headers=alice.auth).status_code == 403
    token = {"name": "x", "scope": "full"}
    assert api.post(f"/users/{bob.name}/api-tokens", json=token, headers=alice.auth).status_code == 403
