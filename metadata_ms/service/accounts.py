"""Users and their bearer tokens: sessions (logins) and API tokens, password changes and resets."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.contracts import (
    ApiTokenInfo,
    ApiTokenRequest,
    DeletionReport,
    IssuedToken,
    LoginAttempt,
    NewAccount,
    ObjectRef,
    PasswordChangeRequest,
    RemovedAccount,
    ResetByHash,
    SessionInfo,
    TokenOwner,
    UserCreated,
    UserInfo,
)
from liftbit_common.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    Unauthorized,
    account_disabled,
    last_admin,
)
from liftbit_common.events import EventType, FileEvent
from liftbit_common.names import InvalidName, validate_username
from liftbit_common.rules import token_digest
from metadata_ms.models import Grant, Invite, Link, Node, PasswordResetToken, Token, Upload, User, Version
from metadata_ms.outbox import add_events
from metadata_ms.service.objects import schedule_deletions, upload_objects
from metadata_ms.service.passwords import PasswordVault
from metadata_ms.service.throttle import Throttle

RegistrationPolicy = Literal["open", "invite", "closed"]
# last_used_at is written when it is older than this: one UPDATE per token and minute at most,
# and only on files_ms's cache misses, never per request.
LAST_USED_GRANULARITY = timedelta(minutes=1)
SESSION, API = "session", "api"
ADMIN = "admin"


def _is_username(value: str) -> bool:
    try:
        validate_username(value)
    except InvalidName:
        return False
    return True


async def find_user(session: AsyncSession, username: str, *, for_update: bool = False, key_share: bool = False) -> User:
    """The user, 404 if unknown. ``for_update`` locks the row (quota changes); ``key_share`` only
    keeps it from being deleted until the transaction ends, so that a row that refers to the
    user (a grant, an upload) is never inserted after the account is gone: the loser of that
    race gets the 404 it would get a moment later, not a foreign-key error."""
    query = sa.select(User).where(User.username == username)
    if for_update:
        query = query.with_for_update()
    elif key_share:
        query = query.with_for_update(key_share=True)
    user = await session.scalar(query)
    if user is None:
        raise NotFound(f"user {username!r} does not exist", code=ErrorCode.USER_NOT_FOUND)
    return user


class AccountService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: PasswordVault,
        throttle: Throttle,
        *,
        token_ttl_seconds: int,
        default_quota_bytes: int,
        max_live_tokens: int,
        registration: RegistrationPolicy = "open",
    ) -> None:
        self._registration = registration
        self._sessions = sessions
        self._vault = vault
        self._throttle = throttle
        self._max_live_tokens = max_live_tokens
        self._token_ttl = timedelta(seconds=token_ttl_seconds)
        self._default_quota = default_quota_bytes

    async def register(self, new_user: NewAccount) -> UserCreated:
        """REGISTRATION=open: anyone, an invite optional; invite: an invite is needed; closed:
        nobody (invites included). An invite is used up in the transaction that creates the user,
        so a taken username leaves it usable."""
        if self._registration == "closed":
            raise Forbidden("registration is closed on this server", code=ErrorCode.REGISTRATION_CLOSED)
        if self._registration == "invite" and new_user.invite_hash is None:
            raise Forbidden("registration needs an invitation from an administrator", code=ErrorCode.INVITE_REQUIRED)
        await self._throttle.admit_registration(new_user.address)
        password_hash = await self._vault.hash(new_user.password)
        try:
            async with self._sessions.begin() as session:
                quota = self._default_quota
                if new_user.invite_hash is not None:
                    invite = await _usable_invite(session, new_user.invite_hash, new_user.username)
                    if invite.quota_bytes is not None:
                        quota = invite.quota_bytes
                session.add(User(username=new_user.username, password_hash=password_hash, quota_bytes=quota))
        except IntegrityError as exc:
            raise Conflict(f"username {new_user.username!r} is taken", code=ErrorCode.USERNAME_TAKEN) from exc
        return UserCreated(username=new_user.username)

    async def describe(self, username: str) -> UserInfo:
        async with self._sessions() as session:
            user = await find_user(session, username)
            file_count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Node)
                .where(Node.owner_id == user.id, Node.type == "file", Node.trashed_in.is_(None))
            )
        return UserInfo(
            username=user.username,
            created_at=user.created_at,
            used_bytes=user.used_bytes,
            quota_bytes=user.quota_bytes or None,
            file_count=file_count or 0,
        )

    async def remove(self, username: str) -> RemovedAccount:
        """The account's own deletion; the last enabled admin cannot leave (409)."""
        async with self._sessions.begin() as session:
            user = await find_user(session, username, for_update=True)
            if user.role == ADMIN and user.disabled_at is None:
                await keep_an_admin(session, user)
            return await remove_account(session, user, username)

    async def issue_token(self, attempt: LoginAttempt) -> IssuedToken:
        user = None
        if _is_username(attempt.username):
            async with self._sessions() as session:
                user = await session.scalar(sa.select(User).where(User.username == attempt.username))
        await self._throttle.admit_login(user.id if user else None, attempt.username, attempt.address)
        valid = await self._vault.verify(user.password_hash if user else None, attempt.password)
        if user is None or not valid:
            await self._throttle.record_failure(attempt.username, attempt.address)
            raise Unauthorized("incorrect username or password", code=ErrorCode.INVALID_CREDENTIALS)
        if user.disabled_at is not None:
            raise account_disabled()
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            await self._throttle.record_success(session, user.id, attempt.username, attempt.address)
            client = " from ".join(part for part in (attempt.client, attempt.address) if part)
            session.add(
                Token(token_hash=token_digest(token), user_id=user.id, expires_at=now + self._token_ttl, client=client)
            )
            await session.flush()
            # A cap on live tokens: a script logging in in a loop (or a login flood with a stolen
            # password) cannot grow the table; the oldest sessions end first.
            oldest_kept = (
                sa.select(Token.expires_at)
                .where(Token.user_id == user.id, Token.kind == SESSION)
                .order_by(Token.expires_at.desc())
                .offset(self._max_live_tokens - 1)
                .limit(1)
                .scalar_subquery()
            )
            await session.execute(
                sa.delete(Token).where(
                    Token.user_id == user.id,
                    Token.kind == SESSION,
                    sa.or_(Token.expires_at < oldest_kept, Token.expires_at <= now),
                )
            )
        return IssuedToken(access_token=token, expires_in=int(self._token_ttl.total_seconds()))

    async def resolve_token(self, token_hash: str) -> TokenOwner:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    sa.select(
                        User.username, User.role, User.disabled_at, Token.expires_at, Token.scope, Token.last_used_at
                    )
                    .join(User, User.id == Token.user_id)
                    .where(Token.token_hash == token_hash, _unexpired())
                )
            ).first()
        if row is None:
            raise Unauthorized()
        if row.disabled_at is not None:
            raise account_disabled()
        now = datetime.now(UTC)
        if row.last_used_at is None or row.last_used_at < now - LAST_USED_GRANULARITY:
            async with self._sessions.begin() as session:
                await session.execute(sa.update(Token).where(Token.token_hash == token_hash).values(last_used_at=now))
        return TokenOwner(username=row.username, expires_at=row.expires_at, role=row.role, scope=row.scope)

    async def revoke_token(self, token_hash: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(sa.delete(Token).where(Token.token_hash == token_hash))

    async def change_password(self, username: str, change: PasswordChangeRequest) -> None:
        """Needs the current password; every token of the user but the asking one is revoked
        (sessions and API tokens: whoever knew the old password may have made some)."""
        async with self._sessions() as session:
            user = await find_user(session, username)
        if not await self._vault.verify(user.password_hash, change.current_password):
            raise Forbidden("the current password is not right", code=ErrorCode.WRONG_PASSWORD)
        password_hash = await self._vault.hash(change.new_password)
        async with self._sessions.begin() as session:
            await session.execute(sa.update(User).where(User.id == user.id).values(password_hash=password_hash))
            await session.execute(
                sa.delete(Token).where(Token.user_id == user.id, Token.token_hash != change.keep_token_hash)
            )

    async def reset_password(self, reset: ResetByHash) -> UserCreated:
        """Set a new password with a reset token (single use: 410 once used or expired); every
        token of the user is revoked."""
        password_hash = await self._vault.hash(reset.new_password)
        async with self._sessions.begin() as session:
            row = await session.scalar(
                sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == reset.token_hash).with_for_update()
            )
            row = spend(row, RESET)
            user = await session.get_one(User, row.user_id)
            user.password_hash = password_hash
            await session.execute(sa.delete(Token).where(Token.user_id == user.id))
        return UserCreated(username=user.username)

    async def sessions(self, username: str, current_hash: str) -> list[SessionInfo]:
        async with self._sessions() as session:
            user = await find_user(session, username)
            rows = await session.scalars(_live_tokens(user.id, SESSION))
            return [
                SessionInfo(
                    id=str(t.id),
                    created_at=t.created_at,
                    last_used_at=t.last_used_at,
                    expires_at=t.expires_at,
                    client=t.client,
                    current=t.token_hash == current_hash,
                )
                for t in rows
            ]

    async def revoke_one(self, username: str, token_id: str, kind: Literal["session", "api"]) -> None:
        try:
            parsed = uuid.UUID(token_id)
        except ValueError:
            parsed = None
        async with self._sessions.begin() as session:
            user = await find_user(session, username)
            deleted = (
                await session.execute(
                    sa.delete(Token)
                    .where(Token.user_id == user.id, Token.id == parsed, Token.kind == kind)
                    .returning(Token.token_hash)
                )
            ).first()
        if parsed is None or deleted is None:
            raise NotFound(f"no {kind} {token_id!r} of {username!r}", code=ErrorCode.SESSION_NOT_FOUND)

    async def revoke_sessions(self, username: str, keep_hash: str) -> None:
        """Every session of the user but the asking one (API tokens stay)."""
        async with self._sessions.begin() as session:
            user = await find_user(session, username)
            await session.execute(
                sa.delete(Token).where(Token.user_id == user.id, Token.kind == SESSION, Token.token_hash != keep_hash)
            )

    async def create_api_token(self, username: str, request: ApiTokenRequest) -> ApiTokenInfo:
        now = datetime.now(UTC)
        if request.expires_at is not None and request.expires_at <= now:
            raise InvalidInput("expires_at must be in the future")
        async with self._sessions.begin() as session:
            user = await find_user(session, username, key_share=True)
            token = Token(
                token_hash=request.token_hash,
                user_id=user.id,
                id=uuid.uuid4(),
                kind=API,
                name=request.name,
                scope=request.scope,
                expires_at=request.expires_at,
                created_at=now,
            )
            session.add(token)
        return _api_token_info(token)

    async def api_tokens(self, username: str) -> list[ApiTokenInfo]:
        async with self._sessions() as session:
            user = await find_user(session, username)
            rows = await session.scalars(_live_tokens(user.id, API))
            return [_api_token_info(t) for t in rows]


@dataclass(frozen=True)
class SingleUse:
    """A kind of single-use, expiring token (invitations, password resets) and its error codes."""

    noun: str
    unknown: ErrorCode
    used: ErrorCode
    expired: ErrorCode


INVITE = SingleUse("invitation", ErrorCode.INVITE_NOT_FOUND, ErrorCode.INVITE_USED, ErrorCode.INVITE_EXPIRED)
RESET = SingleUse("reset token", ErrorCode.RESET_NOT_FOUND, ErrorCode.RESET_USED, ErrorCode.RESET_EXPIRED)
Spendable = TypeVar("Spendable", Invite, PasswordResetToken)


def spend(row: Spendable | None, kind: SingleUse) -> Spendable:
    """Mark the (locked) row used now; 404 unknown, 410 used already or expired."""
    if row is None:
        raise NotFound(f"no such {kind.noun}: check that it was copied whole", code=kind.unknown)
    if row.used_at is not None:
        raise Gone(f"this {kind.noun} was used already", code=kind.used)
    now = datetime.now(UTC)
    if row.expires_at <= now:
        raise Gone(f"this {kind.noun} expired at {row.expires_at.isoformat()}", code=kind.expired)
    row.used_at = now
    return row


async def keep_an_admin(session: AsyncSession, leaving: User) -> None:
    """409 unless another enabled admin remains (their rows locked, so two admins disabling each
    other at once cannot both succeed)."""
    others = await session.scalars(
        sa.select(User.id)
        .where(User.role == ADMIN, User.disabled_at.is_(None), User.id != leaving.id)
        .with_for_update()
    )
    if not others.first():
        raise last_admin()


def _live_tokens(user_id: int, kind: str) -> sa.Select[Token]:
    """A user's unexpired tokens of one kind (sessions or API tokens), newest first."""
    return (
        sa.select(Token)
        .where(Token.user_id == user_id, Token.kind == kind, _unexpired())
        .order_by(Token.created_at.desc())
    )


def _unexpired() -> sa.ColumnElement[bool]:
    return sa.or_(Token.expires_at.is_(None), Token.expires_at > sa.func.now())


def _api_token_info(token: Token) -> ApiTokenInfo:
    return ApiTokenInfo(
        id=str(token.id),
        name=token.name or "",
        scope=token.scope,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
    )


async def _usable_invite(session: AsyncSession, token_hash: str, username: str) -> Invite:
    """The invite, locked and marked used by ``username``; 404 unknown, 410 used or expired."""
    invite = spend(
        await session.scalar(sa.select(Invite).where(Invite.token_hash == token_hash).with_for_update()), INVITE
    )
    if invite.username is not None and invite.username != username:
        raise Forbidden(
            f"this invitation is for the username {invite.username!r}", code=ErrorCode.INVITE_FOR_ANOTHER_USER
        )
    invite.used_by = username
    return invite


async def remove_account(session: AsyncSession, user: User, username: str) -> RemovedAccount:
    """Delete the user (locked by the caller) with their files (in the trash too), versions,
    grants, links, tokens and uploads, in the caller's transaction; one delete event per file."""
    nodes = (await session.scalars(sa.select(Node).where(Node.owner_id == user.id))).all()
    files = [n for n in nodes if n.object_key is not None]
    uploads = (await session.scalars(sa.select(Upload).where(Upload.owner_id == user.id))).all()
    versions = (
        await session.scalars(
            sa.select(Version.object_key).join(Node, Node.id == Version.node_id).where(Node.owner_id == user.id)
        )
    ).all()

    async def count(query: sa.Select[tuple[int]] | sa.Select[int]) -> int:
        return await session.scalar(query) or 0

    grants = await count(
        sa.select(sa.func.count())
        .select_from(Grant)
        .join(Node, Node.id == Grant.node_id)
        .where(Node.owner_id == user.id)
    )
    links = await count(sa.select(sa.func.count()).select_from(Link).where(Link.owner_id == user.id))
    tokens = await count(sa.select(sa.func.count()).select_from(Token).where(Token.user_id == user.id))
    keys = {f.object_key for f in files if f.object_key} | set(versions)
    doomed = [ObjectRef(object_key=key) for key in sorted(keys)]
    for upload in uploads:
        doomed += upload_objects(upload)
    await schedule_deletions(session, doomed, datetime.now(UTC))
    await add_events(
        session,
        [
            FileEvent(
                type=EventType.DELETE,
                owner=username,
                filename=f.name,
                size=f.size or 0,
                actor=username,
                file_id=str(f.id),
                path=f.path,
            )
            for f in files
        ],
    )
    await session.delete(user)  # cascades to nodes, versions, grants, tokens, uploads, links
    report = DeletionReport(
        username=username,
        files=len(files),
        folders=len(nodes) - len(files),
        bytes=sum(f.size or 0 for f in files),
        versions=len(versions),
        grants=grants,
        links=links,
        tokens=tokens,
        objects=len(doomed),
    )
    return RemovedAccount(objects=doomed, report=report)
