from __future__ import annotations

from fastapi import APIRouter

from liftbit_common.contracts import IssuedToken, LoginAttempt, TokenOwner
from liftbit_common.internal_api import metadata as api
from liftbit_common.internal_api.route import serve
from metadata_ms.api.deps import Services

router = APIRouter(tags=["tokens"])


@serve(router, api.ISSUE_TOKEN)
async def issue(attempt: LoginAttempt, services: Services) -> IssuedToken:
    return await services.accounts.issue_token(attempt)


@serve(router, api.RESOLVE_TOKEN)
async def resolve(token_hash: str, services: Services) -> TokenOwner:
    return await services.accounts.resolve_token(token_hash)


@serve(router, api.REVOKE_TOKEN)
async def revoke(token_hash: str, services: Services) -> None:
    await services.accounts.revoke_token(token_hash)
