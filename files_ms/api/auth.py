from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordRequestForm

from files_ms.api.deps import SESSION_COOKIE, BearerToken, Identity, Services, client_address
from liftbit_common.contracts import IssuedToken, LoginAttempt, PasswordReset, TokenOwner
from liftbit_common.errors import Unauthorized, error_responses, token_error, token_error_responses

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenErrorRoute(APIRoute):
    """A route whose failures answer in RFC 6749 §5.2's shape, which OAuth2 clients (Swagger UI's
    Authorize dialog, the web app) read: `error`, `error_description`, and LiftBit's own error
    object in `liftbit_error`. Only the token endpoint uses it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as exc:
                answer = token_error(exc)
                if answer is None:
                    raise
                return answer

        return handler


token_router = APIRouter(prefix="/auth", tags=["auth"], route_class=TokenErrorRoute)


@token_router.post("/token", responses=token_error_responses(401, 422, 429, 503))
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, services: Services
) -> IssuedToken:
    """OAuth2 password flow: form fields `username` and `password` give a bearer token. Failures
    answer `{error, error_description, liftbit_error}` (RFC 6749 §5.2; `invalid_grant` for a
    wrong username or password)."""
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
    "/session", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=error_responses(401, 503)
)
async def open_session(token: BearerToken, request: Request, response: Response, services: Services) -> None:
    """Set the download cookie for the bearer token this request carries: an HttpOnly,
    SameSite=Strict cookie that lets the browser fetch file bytes (downloads, versions, previews)
    by plain navigation. It is accepted for GET and HEAD of bytes only, never for a change."""
    if not token:
        raise Unauthorized("missing bearer token")
    await services.authenticator.username_for(token)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.headers.get("x-forwarded-proto") == "https",
        path="/",
    )


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def close_session(response: Response) -> None:
    """Remove the download cookie (the web app calls it on logout, before revoking the token)."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


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
