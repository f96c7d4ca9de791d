"""The one error model: every 4xx/5xx body is ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from liftbit_common.names import InvalidName

log = structlog.get_logger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class LiftbitError(Exception):
    """An error with an HTTP status; raise a subclass from domain code, handlers render it."""

    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(LiftbitError):
    status_code, code = 400, "bad_request"


class Unauthorized(LiftbitError):
    status_code, code = 401, "unauthorized"

    def __init__(self, message: str = "missing, invalid or expired bearer token", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(LiftbitError):
    status_code, code = 403, "forbidden"


class NotFound(LiftbitError):
    status_code, code = 404, "not_found"


class Conflict(LiftbitError):
    status_code, code = 409, "conflict"


class RequestTimeout(LiftbitError):
    status_code, code = 408, "request_timeout"


class LengthRequired(LiftbitError):
    status_code, code = 411, "length_required"


class PreconditionFailed(LiftbitError):
    status_code, code = 412, "precondition_failed"


class PayloadTooLarge(LiftbitError):
    status_code, code = 413, "payload_too_large"


class RangeNotSatisfiable(LiftbitError):
    status_code, code = 416, "range_not_satisfiable"


class InvalidInput(LiftbitError):
    status_code, code = 422, "invalid_input"


class TooManyRequests(LiftbitError):
    status_code, code = 429, "too_many_requests"


class ServiceUnavailable(LiftbitError):
    """A dependency (database, S3, broker, another service) did not answer."""

    status_code, code = 503, "dependency_unavailable"

    def __init__(self, dependency: str, message: str | None = None, **kwargs: Any) -> None:
        # Every 503 says when to come back (RFC 9110 15.6.4); a second is what recoveries take here.
        kwargs.setdefault("headers", {"Retry-After": "1"})
        super().__init__(message or f"{dependency} is unavailable, try again shortly", **kwargs)
        self.dependency = dependency


def error_for_status(status_code: int, message: str, code: str) -> LiftbitError:
    """Rebuild the typed error another service answered with (its class matters to callers)."""
    for error_class in LiftbitError.__subclasses__():
        if error_class.status_code == status_code:
            return error_class(message, code=code)
    return LiftbitError(message, code=code, status_code=status_code)


ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid or expired token",
    403: "The token's user may not act on this path",
    404: "Not found (or not visible to the caller)",
    408: "The client sent nothing for too long in the middle of the body",
    409: "Conflict",
    411: "Neither Content-Length nor Transfer-Encoding",
    412: "Precondition failed",
    413: "Too large or over quota",
    416: "Range not satisfiable",
    422: "Invalid input",
    429: "Too many requests",
    503: "A dependency is unavailable",
}


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the error shape for the given statuses."""
    return {code: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[code]} for code in status_codes}


def error_json(status_code: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status_code, headers=headers)


def _describe_validation_error(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header"))
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts) or "invalid input"


async def _handle_liftbit_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LiftbitError)
    if exc.status_code >= 500:
        log.warning("request_failed", code=exc.code, message=exc.message)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


async def _handle_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_json(422, "invalid_input", _describe_validation_error(exc))


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 401: "unauthorized"}


async def _handle_http_exception(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_json(exc.status_code, code, message, headers=dict(exc.headers or {}))


async def _handle_invalid_name(_: Request, exc: Exception) -> JSONResponse:
    return error_json(422, "invalid_input", str(exc))


async def _handle_client_gone(_: Request, __: Exception) -> Response:
    # The client closed the connection mid-request: nothing was stored and nobody hears an answer.
    log.info("client_disconnected")
    return Response(status_code=400)


async def _handle_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", exc_info=exc)
    return error_json(500, "internal_error", "internal error; the request id in the logs tells more")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LiftbitError, _handle_liftbit_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(InvalidName, _handle_invalid_name)
    app.add_exception_handler(ClientDisconnect, _handle_client_gone)
    app.add_exception_handler(Exception, _handle_unexpected)
