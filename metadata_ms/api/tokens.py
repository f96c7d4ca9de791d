from __future__ import annotations

from fastapi import APIRouter, status

from liftbit_common.contracts import IssuedToken, LoginAttempt, TokenOwner
from metadata_ms.api.deps import Services

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.post("")
async def issue(attempt: LoginAttempt, services: Services) -> IssuedToken:
    return await services.accounts.issue_token(attempt)


@router.get("/{token_hash}")
async def resolve(token_hash: str, services: Services) -> TokenOwner:
    return await services.accounts.resolve_token(token_hash)


@router.delete("/{token_hash}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(token_hash: str, services: Services) -> None:
    await services.accounts.revoke_token(token_hash)
