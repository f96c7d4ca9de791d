"""Administration: roles, quotas, disabling, invitations, password resets, platform totals and
the audit. Every admin action is an audit row and an event on the topic, in the transaction
that makes the change (files_ms checked that the actor is an admin)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.contracts import (
    AdminUser,
    AuditEntry,
    InviteInfo,
    InviteRequest,
    IssuedReset,
    PlatformTotals,
    RemovedAccount,
    ResetRequest,
    Role,
)
from liftbit_common.errors import InvalidInput
from liftbit_common.events import EventType, FileEvent
from metadata_ms.models import AuditRecord, Invite, KnownAddress, Node, PasswordResetToken, User, Version
from metadata_ms.outbox import add_events
from metadata_ms.service.accounts import ADMIN, find_user, keep_an_admin, remove_account
from metadata_ms.service.passwords import PasswordVault

log = structlog.get_logger(__name__)


async def record_admin_action(
    session: AsyncSession, actor: str, action: EventType, target: str, detail: str | None = None
) -> None:
    """The audit row and its event, in the caller's transaction."""
    event = FileEvent(type=action, owner=target, filename="", size=0, actor=actor, detail=detail)
    await add_events(session, [event])
    session.add(
        AuditRecord(
            event_id=event.event_id,
            actor=actor,
            action=action.value,
            target=target,
            detail=detail,
            occurred_at=event.occurred_at,
        )
    )


def _file_count() -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count())
        .where(Node.owner_id == User.id, Node.type == "file", Node.trashed_in.is_(None))
        .correlate(User)
        .scalar_subquery()
    )


def _last_login() -> sa.ScalarSelect[datetime]:
    return sa.select(sa.func.max(KnownAddress.last_login_at)).where(KnownAddress.user_id == User.id).scalar_subquery()


class Administration:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: PasswordVault,
        *,
        invite_seconds: int,
        reset_seconds: int,
        default_quota_bytes: int,
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._invite_ttl = timedelta(seconds=invite_seconds)
        self._reset_ttl = timedelta(seconds=reset_seconds)
        self._default_quota = default_quota_bytes

    async def ensure_admin(self, username: str, password: str) -> None:
        """At start: the first admin exists (LIFTBIT_ADMIN_USER with LIFTBIT_ADMIN_PASSWORD) and is
        an admin. Idempotent; an existing password is never reset."""
        async with self._sessions() as session:
            existing = await session.scalar(sa.select(User).where(User.username == username))
        if existing is not None:
            if existing.role != ADMIN:
                async with self._sessions.begin() as session:
                    await session.execute(sa.update(User).where(User.id == existing.id).values(role=ADMIN))
                log.warning("existing_user_made_admin", username=username)
            return
        password_hash = await self._vault.hash(password)
        async with self._sessions.begin() as session:
            statement = sa.dialects.postgresql.insert(User).values(
                username=username, password_hash=password_hash, quota_bytes=self._default_quota, role=ADMIN
            )
            await session.execute(statement.on_conflict_do_nothing(index_elements=[User.username]))
        log.info("first_admin_created", username=username)

    async def users(self) -> list[AdminUser]:
        async with self._sessions() as session:
            rows = await session.execute(sa.select(User, _file_count(), _last_login()).order_by(User.username))
            return [_admin_user(user, files, last_login) for user, files, last_login in rows]

    async def user(self, session: AsyncSession, username: str) -> AdminUser:
        row = (
            await session.execute(sa.select(User, _file_count(), _last_login()).where(User.username == username))
        ).one()
        return _admin_user(*row)

    async def set_quota(self, username: str, quota_bytes: int | None, actor: str) -> AdminUser:
        """Below the current usage is allowed: nothing is deleted, uploads are refused (413)."""
        async with self._sessions.begin() as session:
            user = await find_user(session, username, for_update=True)
            before = user.quota_bytes
            user.quota_bytes = quota_bytes or 0  # 0 = unlimited
            await record_admin_action(
                session, actor, EventType.QUOTA_CHANGED, username, f"quota_bytes={quota_bytes} (was {before or None})"
            )
            await session.flush()
            return await self.user(session, username)

    async def set_role(self, username: str, role: Role, actor: str) -> AdminUser:
        async with self._sessions.begin() as session:
            user = await find_user(session, username, for_update=True)
            if user.role == ADMIN and role != ADMIN:
                await keep_an_admin(session, user)
            before, user.role = user.role, role
            await record_admin_action(session, actor, EventType.ROLE_CHANGED, username, f"role={role} (was {before})")
            await session.flush()
            return await self.user(session, username)

    async def set_disabled(self, username: str, disabled: bool, actor: str) -> None:
        """Disabling: the user's tokens stop resolving (401) and their links answer 410 at once
        here; files_ms's token cache bounds how long another replica may still accept a token."""
        async with self._sessions.begin() as session:
            user = await find_user(session, username, for_update=True)
            if disabled and user.role == ADMIN and user.disabled_at is None:
                await keep_an_admin(session, user)
            if disabled and user.disabled_at is None:
                user.disabled_at = datetime.now(UTC)
            elif not disabled:
                user.disabled_at = None
            action = EventType.USER_DISABLED if disabled else EventType.USER_ENABLED
            await record_admin_action(session, actor, action, username)

    async def remove(self, username: str, actor: str) -> RemovedAccount:
        async with self._sessions.begin() as session:
            user = await find_user(session, username, for_update=True)
            if user.role == ADMIN and user.disabled_at is None:
                await keep_an_admin(session, user)
            removed = await remove_account(session, user, username)
            report = removed.report
            detail = f"files={report.files} bytes={report.bytes} folders={report.folders} links={report.links}"
            await record_admin_action(session, actor, EventType.USER_DELETED, username, detail)
        return removed

    async def create_invite(self, request: InviteRequest) -> InviteInfo:
        now = datetime.now(UTC)
        if request.expires_at is not None and request.expires_at <= now:
            raise InvalidInput("expires_at must be in the future")
        expires_at = request.expires_at or now + self._invite_ttl
        invite = Invite(
            id=uuid.uuid4(),
            token_hash=request.token_hash,
            created_by=request.actor,
            username=request.username,
            quota_bytes=request.quota_bytes,
            expires_at=expires_at,
        )
        async with self._sessions.begin() as session:
            session.add(invite)
            detail = f"invite={invite.id} expires_at={expires_at.isoformat()}"
            if request.quota_bytes is not None:
                detail += f" quota_bytes={request.quota_bytes}"
            await record_admin_action(session, request.actor, EventType.INVITE_CREATED, request.username or "", detail)
        return InviteInfo(
            id=str(invite.id), expires_at=expires_at, username=request.username, quota_bytes=request.quota_bytes
        )

    async def issue_reset(self, username: str, request: ResetRequest) -> IssuedReset:
        expires_at = datetime.now(UTC) + self._reset_ttl
        async with self._sessions.begin() as session:
            user = await find_user(session, username, key_share=True)
            session.add(
                PasswordResetToken(
                    token_hash=request.token_hash, user_id=user.id, created_by=request.actor, expires_at=expires_at
                )
            )
            await record_admin_action(
                session,
                request.actor,
                EventType.PASSWORD_RESET_ISSUED,
                username,
                f"expires_at={expires_at.isoformat()}",
            )
        return IssuedReset(username=username, expires_at=expires_at)

    async def audit(self, limit: int, before: int | None) -> list[AuditEntry]:
        query = sa.select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
        if before is not None:
            query = query.where(AuditRecord.id < before)
        async with self._sessions() as session:
            return [
                AuditEntry(
                    id=r.id, actor=r.actor, action=r.action, target=r.target, detail=r.detail, occurred_at=r.occurred_at
                )
                for r in await session.scalars(query)
            ]

    async def totals(self) -> PlatformTotals:
        midnight = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
        async with self._sessions() as session:
            users = (
                await session.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.count().filter(User.role == ADMIN),
                        sa.func.count().filter(User.disabled_at.is_not(None)),
                        sa.func.coalesce(sa.func.sum(User.used_bytes), 0),
                    )
                )
            ).one()
            files = await session.scalar(
                sa.select(sa.func.count()).where(Node.type == "file", Node.trashed_in.is_(None))
            )
            # Each upload is a file's content: the current one (Node.updated_at moves with it) or
            # an earlier one kept as a version.
            current = await session.scalar(
                sa.select(sa.func.count()).where(Node.type == "file", Node.updated_at >= midnight)
            )
            earlier = await session.scalar(sa.select(sa.func.count()).where(Version.created_at >= midnight))
        return PlatformTotals(
            users=users[0],
            admins=users[1],
            disabled_users=users[2],
            bytes=int(users[3]),
            files=files or 0,
            uploads_today=(current or 0) + (earlier or 0),
        )


def _admin_user(user: User, file_count: int | None, last_login_at: datetime | None) -> AdminUser:
    return AdminUser(
        username=user.username,
        role=user.role,
        disabled=user.disabled_at is not None,
        used_bytes=user.used_bytes,
        quota_bytes=user.quota_bytes or None,
        file_count=file_count or 0,
        last_login_at=last_login_at,
        created_at=user.created_at,
    )
