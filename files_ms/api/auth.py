from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from files_ms.api.deps import BearerToken, Services
from liftbit_common.contracts import Credentials, IssuedToken
from liftbit_common.errors import Unauthorized, error_responses

router = APIRouter(prefix="/auth", tags=["auth"])


def client_address(request: Request) -> str:
    # nginx sets X-Real-IP; files_ms listens on loopback only, so the header cannot be forged past it.
    return request.headers.get("x-real-ip") or (request.client.host if request.client else "unknown")


@router.post("/token", responses=error_responses(401, 422, 429, 503))
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, services: Services
) -> IssuedToken:
    """OAuth2 password flow: form fields `username` and `password` give a bearer token."""
    credentials = Credentials(username=form.username, password=form.password)
    return await services.accounts.login(credentials, client_address(request))


@router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=error_responses(401, 503)
)
async def logout(token: BearerToken, services: Services) -> None:
    """Revoke the bearer token this request carries."""
    if not token:
        raise Unauthorized("missing bearer token")
    await services.authenticator.username_for(token)
    await services.accounts.logout(token)
