"""metadata_ms's administration on real Postgres, in a database of its own: the registration
policy, the first admin at start, migration 0005 both ways."""

from __future__ import annotations

import hashlib

import psycopg
import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from liftbit_common.contracts import ApiTokenRequest, InviteRequest, LoginAttempt, NewAccount
from liftbit_common.db import create_engine, upgrade_database
from liftbit_common.errors import Forbidden, Gone, Unauthorized
from metadata_ms.app import MIGRATIONS, VERSION_TABLE, throttle_policy
from metadata_ms.service.accounts import AccountService, RegistrationPolicy
from metadata_ms.service.admin import Administration
from metadata_ms.service.passwords import PasswordVault
from metadata_ms.service.throttle import Throttle
from metadata_ms.settings import MetadataSettings
from tests.support.asyncio_thread import run_coroutine

PASSWORD = "correct horse battery"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def services(url: str, registration: RegistrationPolicy = "open") -> tuple[AsyncEngine, AccountService, Administration]:
    engine = create_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    vault = PasswordVault(concurrency=1, queue=4)
    settings = MetadataSettings(database_url=url, kafka_bootstrap_servers="unused:1", internal_token="x")
    throttle = Throttle(sessions, throttle_policy(settings))
    accounts = AccountService(
        sessions,
        vault,
        throttle,
        token_ttl_seconds=3600,
        default_quota_bytes=100,
        max_live_tokens=5,
        registration=registration,
    )
    admin = Administration(sessions, vault, invite_seconds=60, reset_seconds=60, default_quota_bytes=100)
    return engine, accounts, admin


async def scenario(url: str, registration: RegistrationPolicy) -> list[str]:
    """What happens, in order, to registrations under ``registration``."""
    engine, accounts, admin = services(url, registration)
    outcomes: list[str] = []
    try:
        await admin.ensure_admin("admin", "first password")
        await admin.ensure_admin("admin", "another password")  # idempotent: the first one stays
        await admin.create_invite(InviteRequest(actor="admin", token_hash=digest("inv1"), quota_bytes=7))

        async def attempt(name: str, invite_token: str | None) -> None:
            account = NewAccount(
                username=name,
                password=PASSWORD,
                invite_hash=digest(invite_token) if invite_token else None,
                address="192.0.2.1",
            )
            try:
                await accounts.register(account)
                outcomes.append(f"{name}: ok")
            except (Forbidden, Gone) as exc:
                outcomes.append(f"{name}: {exc.status_code} {exc.code}")

        await attempt("walkin", None)
        await attempt("invited", "inv1")
        await attempt("again", "inv1")
        rows = {u.username: u for u in await admin.users()}
        outcomes.append(f"quota {rows['invited'].quota_bytes if 'invited' in rows else None}")
    finally:
        await engine.dispose()
    return outcomes


@pytest.mark.parametrize(
    ("registration", "expected"),
    [
        ("open", ["walkin: ok", "invited: ok", "again: 410 invite_used", "quota 7"]),
        ("invite", ["walkin: 403 invite_required", "invited: ok", "again: 410 invite_used", "quota 7"]),
        (
            "closed",
            [
                "walkin: 403 registration_closed",
                "invited: 403 registration_closed",
                "again: 403 registration_closed",
                "quota None",
            ],
        ),
    ],
)
def test_the_registration_policy_and_single_use_invites(
    database_url: str,
    registration: RegistrationPolicy,
    expected: list[str],
) -> None:
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "head")
    assert run_coroutine(scenario(database_url, registration)) == expected
    with psycopg.connect(database_url) as db:
        first_admin = db.execute("SELECT role, password_hash FROM users WHERE username = 'admin'").fetchone()
        audit = db.execute("SELECT actor, action FROM audit_log").fetchall()
        outbox = db.execute("SELECT payload FROM outbox").fetchall()
    assert first_admin is not None
    role, password_hash = first_admin
    assert role == "admin"
    assert PasswordHasher().verify(password_hash, "first password")  # never reset by a later start
    assert audit == [("admin", "invite_created")]
    assert len(outbox) == 1 and '"invite_created"' in outbox[0][0]


def test_migration_0005_goes_down_and_up_again(database_url: str) -> None:
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "head")
    with psycopg.connect(database_url) as db:
        db.execute("INSERT INTO users (username, password_hash, quota_bytes, role) VALUES ('a1', 'x', 0, 'admin')")
        db.execute(
            "INSERT INTO tokens (token_hash, user_id, expires_at, kind) "
            "SELECT 'h1', id, now() + interval '1 hour', 'session' FROM users"
        )
        db.execute("INSERT INTO tokens (token_hash, user_id, kind) SELECT 'h2', id, 'api' FROM users")
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "0004", down=True)
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT token_hash FROM tokens").fetchall() == [("h1",)]  # no expiry: gone
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "head")
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT role, disabled_at FROM users").fetchall() == [("user", None)]
        assert db.execute("SELECT kind, scope FROM tokens").fetchall() == [("session", "full")]


async def token_lives(url: str) -> dict[str, object]:
    engine, accounts, admin = services(url)
    seen: dict[str, object] = {}
    try:
        await accounts.register(NewAccount(username="carol", password=PASSWORD, address="192.0.2.1"))
        issued = await accounts.issue_token(
            LoginAttempt(username="carol", password=PASSWORD, address="192.0.2.1", client="curl/8")
        )
        session_hash = digest(issued.access_token)
        await accounts.resolve_token(session_hash)
        first = (await accounts.sessions("carol", session_hash))[0]
        await accounts.resolve_token(session_hash)
        second = (await accounts.sessions("carol", session_hash))[0]
        seen["last_used_written_once"] = first.last_used_at is not None and first.last_used_at == second.last_used_at
        seen["client"] = first.client
        await accounts.create_api_token("carol", ApiTokenRequest(name="ci", scope="read", token_hash=digest("api")))
        owner = await accounts.resolve_token(digest("api"))
        seen["api"] = (owner.username, owner.scope, owner.expires_at, owner.role)
        for _ in range(6):  # past max_live_tokens sessions: the API token is no session and stays
            await accounts.issue_token(LoginAttempt(username="carol", password=PASSWORD, address="192.0.2.1"))
        seen["sessions"] = len(await accounts.sessions("carol", ""))
        seen["api_tokens"] = [t.name for t in await accounts.api_tokens("carol")]
        await admin.set_disabled("carol", True, "admin")
        try:
            await accounts.resolve_token(digest("api"))
        except Unauthorized as exc:
            seen["disabled"] = exc.code
    finally:
        await engine.dispose()
    return seen


def test_sessions_and_api_tokens_on_postgres(database_url: str) -> None:
    upgrade_database(MIGRATIONS, database_url, VERSION_TABLE, "head")
    assert run_coroutine(token_lives(database_url)) == {
        "last_used_written_once": True,  # at most once a minute, not per resolution
        "client": "curl/8 from 192.0.2.1",
        "api": ("carol", "read", None, "user"),
        "sessions": 5,
        "api_tokens": ["ci"],
        "disabled": "account_disabled",
    }
