from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from files_ms.api.deps import BearerToken, Identity, Services, client_address
from liftbit_common.contracts import IssuedToken, LoginAttempt, PasswordReset, TokenOwner
from liftbit_common.errors import Unauthorized, error_responses

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", responses=error_responses(401, 422, 429, 503))
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, services: Services
) -> IssuedToken:
    """OAuth2 password flow: form fields `username` and `password` give a bearer token."""
    attempt = LoginAttempt(
        username=form.username,
        password=form.password,
        address=client_address(request),
        client=(request.headers.get("user-agent") or "")[:200] or None,
    )
    return await services.accounts.login(attempt)


@router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=error_responses(401, 503)
)
async def logout(token: BearerToken, services: Services) -> None:
    """Revoke the bearer token this request carries."""
    if not token:
        raise Unauthorized("missing bearer token")
    await services.authenticator.username_for(token)
    await services.accounts.logout(token)


@router.post(
    "/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(404, 410, 422, 503),
)
async def reset_password(reset: PasswordReset, services: Services) -> None:
    """Set a new password with the reset token an administrator issued (single use: 410 once used
    or expired). Every session and API token of the account is revoked; log in afresh."""
    await services.accounts.reset_password(reset)


@router.get("/me", responses=error_responses(401, 503))
async def who_am_i(identity: Identity) -> TokenOwner:
    """Whom this bearer token speaks for: the username, role, scope (API tokens) and expiry."""
    return identity
