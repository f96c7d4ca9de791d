"""The administration API (DESIGN, "Team administration"): admins only, by the role metadata_ms
keeps for the token's user; anyone else gets 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from files_ms.api.deps import CurrentAdmin, Services
from liftbit_common.contracts import (
    AdminUser,
    AuditEntry,
    CreatedInvite,
    CreatedReset,
    DeletionReport,
    NewInvite,
    PlatformStats,
    QuotaChange,
    RoleChange,
    Username,
)
from liftbit_common.errors import error_responses

router = APIRouter(prefix="/admin", tags=["admin"])
ADMIN_ERRORS = (401, 403, 422, 503)
ON_A_USER = (401, 403, 404, 422, 503)


@router.get("/users", responses=error_responses(*ADMIN_ERRORS))
async def list_users(actor: CurrentAdmin, services: Services) -> list[AdminUser]:
    """Every account with its role, state, usage, file count and last login."""
    return await services.admin.users()


@router.put("/users/{username}/quota", responses=error_responses(*ON_A_USER))
async def set_quota(username: Username, change: QuotaChange, actor: CurrentAdmin, services: Services) -> AdminUser:
    """Set a user's quota (null or 0: unlimited). Below the current usage is allowed: nothing is
    deleted, and every upload is refused with 413 `quota_exceeded` until usage drops below it."""
    return await services.admin.set_quota(actor, username, change.quota_bytes)


@router.put("/users/{username}/role", responses=error_responses(401, 403, 404, 409, 422, 503))
async def set_role(username: Username, change: RoleChange, actor: CurrentAdmin, services: Services) -> AdminUser:
    """Promote a user to admin or demote an admin (409 for the last enabled admin)."""
    return await services.admin.set_role(actor, username, change.role)


@router.post(
    "/users/{username}/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def disable(username: Username, actor: CurrentAdmin, services: Services) -> None:
    """The user's tokens stop working (401 `account_disabled`) and their share links answer 410;
    their files stay. 409 for the last enabled admin."""
    await services.admin.set_disabled(actor, username, disabled=True)


@router.post(
    "/users/{username}/enable",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*ON_A_USER),
)
async def enable(username: Username, actor: CurrentAdmin, services: Services) -> None:
    """Undo a disable: the user logs in again and their links work again."""
    await services.admin.set_disabled(actor, username, disabled=False)


@router.delete("/users/{username}", responses=error_responses(401, 403, 404, 409, 422, 503))
async def delete_user(username: Username, actor: CurrentAdmin, services: Services) -> DeletionReport:
    """Delete an account as the user could (files, versions, grants, links, tokens, objects) and
    report what went. 409 for the last enabled admin."""
    return await services.admin.remove(actor, username)


@router.post("/users/{username}/reset", status_code=status.HTTP_201_CREATED, responses=error_responses(*ON_A_USER))
async def issue_reset(username: Username, actor: CurrentAdmin, services: Services) -> CreatedReset:
    """A single-use password reset token for the user (PASSWORD_RESET_SECONDS), shown once; they
    set a new password with `POST /auth/reset`."""
    return await services.admin.issue_reset(actor, username)


@router.post("/invites", status_code=status.HTTP_201_CREATED, responses=error_responses(*ADMIN_ERRORS))
async def create_invite(invite: NewInvite, actor: CurrentAdmin, services: Services) -> CreatedInvite:
    """A single-use invitation (INVITE_SECONDS unless `expires_at`), optionally for one username
    and with a quota; the token is shown once. `POST /users` with `invite` registers with it."""
    return await services.admin.invite(actor, invite)


@router.get("/audit", responses=error_responses(*ADMIN_ERRORS))
async def audit(
    actor: CurrentAdmin,
    services: Services,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, description="Only entries older than this id (the next page)")] = None,
) -> list[AuditEntry]:
    """Admin actions (who, what, on whom, when), newest first; each was also an event on the topic."""
    return await services.admin.audit(limit, before)


@router.get("/stats", responses=error_responses(*ADMIN_ERRORS))
async def platform_stats(actor: CurrentAdmin, services: Services) -> PlatformStats:
    """Platform totals: users, files, bytes, and today's (UTC) uploads and downloads."""
    return await services.admin.stats()
