"""Administration through the public API: files_ms's routes let only admins in (api/deps.py);
metadata_ms does the work and writes the audit."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time

from files_ms.clients.protocols import Analytics, Metadata
from files_ms.service.auth import Authenticator
from files_ms.service.files import FileService
from liftbit_common.contracts import (
    AdminUser,
    AuditEntry,
    CreatedInvite,
    CreatedReset,
    DeletionReport,
    InviteRequest,
    NewInvite,
    PlatformStats,
    ResetRequest,
    Role,
)
from liftbit_common.rules import token_digest


def new_secret_token() -> str:
    """256 random bits: stored as their SHA-256 only, like bearer tokens and link tokens."""
    return secrets.token_urlsafe(32)


class AdminService:
    def __init__(
        self, metadata: Metadata, authenticator: Authenticator, files: FileService, analytics: Analytics
    ) -> None:
        self._metadata = metadata
        self._authenticator = authenticator
        self._files = files
        self._analytics = analytics

    async def users(self) -> list[AdminUser]:
        return await self._metadata.admin_users()

    async def set_quota(self, actor: str, username: str, quota_bytes: int | None) -> AdminUser:
        return await self._metadata.set_quota(username, quota_bytes, actor)

    async def set_role(self, actor: str, username: str, role: Role) -> AdminUser:
        changed = await self._metadata.set_role(username, role, actor)
        self._authenticator.forget_user(username)  # the cached role must not outlive the change
        return changed

    async def set_disabled(self, actor: str, username: str, *, disabled: bool) -> None:
        await self._metadata.set_disabled(username, disabled, actor)
        self._authenticator.forget_user(username)

    async def remove(self, actor: str, username: str) -> DeletionReport:
        removed = await self._metadata.admin_remove_user(username, actor)
        self._authenticator.forget_user(username)
        await self._files.discard(removed.objects)
        return removed.report

    async def invite(self, actor: str, invite: NewInvite) -> CreatedInvite:
        token = new_secret_token()
        request = InviteRequest(**invite.model_dump(), actor=actor, token_hash=token_digest(token))
        created = await self._metadata.create_invite(request)
        return CreatedInvite(**created.model_dump(), token=token)

    async def issue_reset(self, actor: str, username: str) -> CreatedReset:
        token = new_secret_token()
        issued = await self._metadata.issue_reset(username, ResetRequest(actor=actor, token_hash=token_digest(token)))
        return CreatedReset(**issued.model_dump(), token=token)

    async def audit(self, limit: int, before: int | None) -> list[AuditEntry]:
        return await self._metadata.audit(limit, before)

    async def stats(self) -> PlatformStats:
        """metadata_ms's totals, and today's downloads from the analytics windows (the same
        tables /analytics/downloads reads)."""
        totals = await self._metadata.platform_totals()
        midnight = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
        windows = await self._analytics.download_windows(midnight, None)
        return PlatformStats(
            **totals.model_dump(),
            downloads_today=sum(w.downloads for w in windows),
            download_bytes_today=sum(w.bytes for w in windows),
        )
