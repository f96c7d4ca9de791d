"""Users and their bearer tokens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.contracts import (
    IssuedToken,
    LoginAttempt,
    NewAccount,
    ObjectRef,
    RemovedObjects,
    TokenOwner,
    UserCreated,
    UserInfo,
)
from liftbit_common.errors import Conflict, ErrorCode, NotFound, Unauthorized
from liftbit_common.events import EventType, FileEvent
from liftbit_common.names import InvalidName, validate_username
from liftbit_common.rules import token_digest
from metadata_ms.models import Node, Token, Upload, User, Version
from metadata_ms.outbox import add_events
from metadata_ms.service.objects import schedule_deletions, upload_objects
from metadata_ms.service.passwords import PasswordVault
from metadata_ms.service.throttle import Throttle


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
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._throttle = throttle
        self._max_live_tokens = max_live_tokens
        self._token_ttl = timedelta(seconds=token_ttl_seconds)
        self._default_quota = default_quota_bytes

    async def register(self, new_user: NewAccount) -> UserCreated:
        await self._throttle.admit_registration(new_user.address)
        password_hash = await self._vault.hash(new_user.password)
        try:
            async with self._sessions.begin() as session:
                session.add(
                    User(username=new_user.username, password_hash=password_hash, quota_bytes=self._default_quota)
                )
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

    async def remove(self, username: str) -> RemovedObjects:
        """Delete the user with their files (in the trash too), versions, grants, tokens and uploads;
        one delete event per file."""
        async with self._sessions.begin() as session:
            user = await find_user(session, username, for_update=True)
            files = (
                await session.scalars(sa.select(Node).where(Node.owner_id == user.id, Node.object_key.is_not(None)))
            ).all()
            uploads = (await session.scalars(sa.select(Upload).where(Upload.owner_id == user.id))).all()
            versions = await session.scalars(
                sa.select(Version.object_key).join(Node, Node.id == Version.node_id).where(Node.owner_id == user.id)
            )
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
            await session.delete(user)  # cascades to nodes, versions, grants, tokens, uploads
        return RemovedObjects(objects=doomed)

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
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            await self._throttle.record_success(session, user.id, attempt.username, attempt.address)
            session.add(Token(token_hash=token_digest(token), user_id=user.id, expires_at=now + self._token_ttl))
            await session.flush()
            # A cap on live tokens: a script logging in in a loop (or a login flood with a stolen
            # password) cannot grow the table; the oldest sessions end first.
            oldest_kept = (
                sa.select(Token.expires_at)
                .where(Token.user_id == user.id)
                .order_by(Token.expires_at.desc())
                .offset(self._max_live_tokens - 1)
                .limit(1)
                .scalar_subquery()
            )
            await session.execute(
                sa.delete(Token).where(
                    Token.user_id == user.id, sa.or_(Token.expires_at < oldest_kept, Token.expires_at <= now)
                )
            )
        return IssuedToken(access_token=token, expires_in=int(self._token_ttl.total_seconds()))

    async def resolve_token(self, token_hash: str) -> TokenOwner:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    sa.select(User.username, Token.expires_at)
                    .join(User, User.id == Token.user_id)
                    .where(Token.token_hash == token_hash, Token.expires_at > sa.func.now())
                )
            ).first()
        if row is None:
            raise Unauthorized()
        return TokenOwner(username=row.username, expires_at=row.expires_at)

    async def revoke_token(self, token_hash: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(sa.delete(Token).where(Token.token_hash == token_hash))
