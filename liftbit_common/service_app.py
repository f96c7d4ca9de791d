"""The FastAPI skeleton every service shares: errors, logging, request ids, metrics, token guard."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi_offline import FastAPIOffline

from liftbit_common.drain import AnswerErrorsEarly
from liftbit_common.errors import ErrorCode, Unauthorized, install_error_handlers
from liftbit_common.logging import configure_logging
from liftbit_common.observability import RequestContextMiddleware, metrics_endpoint
from liftbit_common.settings import ServiceSettings

INTERNAL_TOKEN_HEADER = "X-Internal-Token"


class InternalTokenGuard:
    """Dependency refusing any call to an internal service that lacks the shared service token."""

    def __init__(self, expected: str) -> None:
        self._expected = expected.encode()

    async def __call__(self, x_internal_token: Annotated[str | None, Header(include_in_schema=False)] = None) -> None:
        if x_internal_token is None or not hmac.compare_digest(x_internal_token.encode(), self._expected):
            raise Unauthorized("internal service token required", code=ErrorCode.INTERNAL_TOKEN_REQUIRED)


def create_service_app(
    *,
    service: str,
    settings: ServiceSettings,
    internal_routers: Sequence[APIRouter] = (),
    public_routers: Sequence[APIRouter] = (),
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A service app: ``internal_routers`` require the internal service token, ``public_routers``
    (health, and files_ms's public API) do not."""
    configure_logging(service, settings.log_level, settings.log_format)
    # Swagger UI from bundled files, not a CDN: the docs work on machines without internet access.
    app = FastAPIOffline(**fastapi_kwargs)
    install_error_handlers(app)
    guard = Depends(InternalTokenGuard(settings.internal_token.get_secret_value()))
    for router in internal_routers:
        app.include_router(router, dependencies=[guard])
    for router in public_routers:
        app.include_router(router)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.add_middleware(AnswerErrorsEarly)
    app.add_middleware(RequestContextMiddleware)
    return app
