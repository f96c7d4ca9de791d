"""Users and their bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.contracts import (
    IssuedToken,
    NewUser,
    ObjectRef,
    RemovedObjects,
    TokenOwner,
    UserCreated,
    UserInfo,
)
from liftbit_common.errors import Conflict, NotFound, Unauthorized
from liftbit_common.events import EventType, FileEvent
from liftbit_common.names import InvalidName, validate_username
from metadata_ms.models import Node, Token, Upload, User, Version
from metadata_ms.outbox import add_events
from metadata_ms.service.objects import schedule_deletions, upload_objects
from metadata_ms.service.passwords import PasswordVault


def _is_username(value: str) -> bool:
    try:
        validate_username(value)
    except InvalidName:
        return False
    return True


def token_digest(token: str) -> str:
    """Tokens are stored only as their SHA-256, so a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def find_user(session: AsyncSession, username: str, *, for_update: bool = False) -> User:
    query = sa.select(User).where(User.username == username)
    if for_update:
        query = query.with_for_update()
    user = await session.scalar(query)
    if user is None:
        raise NotFound(f"user {username!r} does not exist", code="user_not_found")
    return user


class AccountService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: PasswordVault,
        *,
        token_ttl_seconds: int,
        default_quota_bytes: int,
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._token_ttl = timedelta(seconds=token_ttl_seconds)
        self._default_quota = default_quota_bytes

    async def register(self, new_user: NewUser) -> UserCreated:
        password_hash = await self._vault.hash(new_user.password)
        try:
            async with self._sessions.begin() as session:
                session.add(
                    User(username=new_user.username, password_hash=password_hash, quota_bytes=self._default_quota)
                )
        except IntegrityError as exc:
            raise Conflict(f"username {new_user.username!r} is taken", code="username_taken") from exc
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

    async def issue_token(self, username: str, password: str) -> IssuedToken:
        user = None
        if _is_username(username):
            async with self._sessions() as session:
                user = await session.scalar(sa.select(User).where(User.username == username))
        valid = await self._vault.verify(user.password_hash if user else None, password)
        if user is None or not valid:
            raise Unauthorized("incorrect username or password", code="invalid_credentials")
        token = secrets.token_urlsafe(32)
        async with self._sessions.begin() as session:
            session.add(
                Token(token_hash=token_digest(token), user_id=user.id, expires_at=datetime.now(UTC) + self._token_ttl)
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
