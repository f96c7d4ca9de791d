"""Administration and a user's own password, sessions and API tokens (files_ms checks who asks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from liftbit_common.contracts import (
    AdminUser,
    ApiTokenInfo,
    ApiTokenRequest,
    AuditEntry,
    InviteInfo,
    InviteRequest,
    IssuedReset,
    PasswordChangeRequest,
    PlatformTotals,
    RemovedAccount,
    ResetByHash,
    ResetRequest,
    SessionInfo,
    UserCreated,
    Username,
)
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["admin"])


@serve(router, api.CHANGE_PASSWORD)
async def change_password(username: Username, change: PasswordChangeRequest, services: Services) -> None:
    await services.accounts.change_password(username, change)


@serve(router, api.RESET_PASSWORD)
async def reset_password(reset: ResetByHash, services: Services) -> UserCreated:
    return await services.accounts.reset_password(reset)


@serve(router, api.SESSIONS)
async def sessions(
    username: Username, query: Annotated[api.CurrentTokenQuery, Query()], services: Services
) -> list[SessionInfo]:
    return await services.accounts.sessions(username, query.current)


@serve(router, api.REVOKE_SESSION)
async def revoke_session(username: Username, session_id: str, services: Services) -> None:
    await services.accounts.revoke_one(username, session_id, "session")


@serve(router, api.REVOKE_SESSIONS)
async def revoke_sessions(
    username: Username, query: Annotated[api.CurrentTokenQuery, Query()], services: Services
) -> None:
    await services.accounts.revoke_sessions(username, query.current)


@serve(router, api.CREATE_API_TOKEN)
async def create_api_token(username: Username, request: ApiTokenRequest, services: Services) -> ApiTokenInfo:
    return await services.accounts.create_api_token(username, request)


@serve(router, api.API_TOKENS)
async def api_tokens(username: Username, services: Services) -> list[ApiTokenInfo]:
    return await services.accounts.api_tokens(username)


@serve(router, api.REVOKE_API_TOKEN)
async def revoke_api_token(username: Username, token_id: str, services: Services) -> None:
    await services.accounts.revoke_one(username, token_id, "api")


@serve(router, api.ADMIN_USERS)
async def users(services: Services) -> list[AdminUser]:
    return await services.admin.users()


@serve(router, api.SET_QUOTA)
async def set_quota(username: Username, change: api.QuotaAction, services: Services) -> AdminUser:
    return await services.admin.set_quota(username, change.quota_bytes, change.actor)


@serve(router, api.SET_ROLE)
async def set_role(username: Username, change: api.RoleAction, services: Services) -> AdminUser:
    return await services.admin.set_role(username, change.role, change.actor)


@serve(router, api.SET_DISABLED)
async def set_disabled(username: Username, change: api.DisableAction, services: Services) -> None:
    await services.admin.set_disabled(username, change.disabled, change.actor)


@serve(router, api.ADMIN_REMOVE_USER)
async def remove_user(
    username: Username, query: Annotated[api.AdminAction, Query()], services: Services
) -> RemovedAccount:
    return await services.admin.remove(username, query.actor)


@serve(router, api.CREATE_INVITE)
async def create_invite(request: InviteRequest, services: Services) -> InviteInfo:
    return await services.admin.create_invite(request)


@serve(router, api.ISSUE_RESET)
async def issue_reset(username: Username, request: ResetRequest, services: Services) -> IssuedReset:
    return await services.admin.issue_reset(username, request)


@serve(router, api.AUDIT)
async def audit(query: Annotated[api.AuditQuery, Query()], services: Services) -> list[AuditEntry]:
    return await services.admin.audit(query.limit, query.before)


@serve(router, api.PLATFORM_TOTALS)
async def totals(services: Services) -> PlatformTotals:
    return await services.admin.totals()
