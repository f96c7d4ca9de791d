"""The one error model: every 4xx/5xx body is ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from enum import StrEnum
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


class ErrorCode(StrEnum):
    """Every ``error.code`` any LiftBit service answers with; STATUS_CODES says at which status."""

    BAD_REQUEST = "bad_request"
    NOT_MULTIPART = "not_multipart"
    INCOMPLETE_BODY = "incomplete_body"
    BODY_TOO_LONG = "body_too_long"
    DIGEST_MISMATCH = "digest_mismatch"
    INVALID_DIGEST = "invalid_digest"
    INVALID_METADATA = "invalid_metadata"
    FILENAME_REQUIRED = "filename_required"
    LENGTH_REQUIRED = "length_required"  # 411 for a body without a length, 400 for tus without Upload-Length
    UNSUPPORTED_CHECKSUM = "unsupported_checksum"
    INVALID_CHECKSUM = "invalid_checksum"
    MALFORMED_MULTIPART = "malformed_multipart"
    HEADER_TOO_LARGE = "header_too_large"  # nginx
    UNAUTHORIZED = "unauthorized"
    INVALID_CREDENTIALS = "invalid_credentials"
    INTERNAL_TOKEN_REQUIRED = "internal_token_required"
    FORBIDDEN = "forbidden"
    NOT_YOUR_NAMESPACE = "not_your_namespace"
    NOT_THE_OWNER = "not_the_owner"
    NOT_FOUND = "not_found"
    USER_NOT_FOUND = "user_not_found"
    FILE_NOT_FOUND = "file_not_found"
    UPLOAD_NOT_FOUND = "upload_not_found"
    OBJECT_NOT_FOUND = "object_not_found"
    NOT_A_FILE = "not_a_file"
    TRASH_ENTRY_NOT_FOUND = "trash_entry_not_found"
    VERSION_NOT_FOUND = "version_not_found"
    GONE_MEANWHILE = "gone_meanwhile"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_TIMEOUT = "request_timeout"
    CONFLICT = "conflict"
    USERNAME_TAKEN = "username_taken"
    OFFSET_MISMATCH = "offset_mismatch"
    SUPERSEDED_UPLOAD = "superseded_upload"
    UPLOAD_BUSY = "upload_busy"
    UPLOAD_CORRUPT = "upload_corrupt"
    PATH_IS_A_FILE = "path_is_a_file"
    PATH_IS_A_FOLDER = "path_is_a_folder"
    TARGET_EXISTS = "target_exists"
    CONCURRENT_CHANGE = "concurrent_change"
    PRECONDITION_FAILED = "precondition_failed"
    TUS_VERSION = "tus_version"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    QUOTA_EXCEEDED = "quota_exceeded"
    FILE_TOO_LARGE = "file_too_large"
    TOO_LARGE = "too_large"
    URI_TOO_LONG = "uri_too_long"  # nginx
    MISDIRECTED_REQUEST = "misdirected_request"  # nginx, for a Host it does not serve
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    INVALID_INPUT = "invalid_input"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_CONTENT_TYPE = "invalid_content_type"
    FILE_FIELD_MISSING = "file_field_missing"
    GRANT_TO_OWNER = "grant_to_owner"
    PATH_TOO_DEEP = "path_too_deep"
    PATH_TOO_LONG = "path_too_long"
    MOVE_INTO_ITSELF = "move_into_itself"
    TOO_MANY_REQUESTS = "too_many_requests"
    TOO_MANY_UPLOADS = "too_many_uploads"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    INTERNAL_ERROR = "internal_error"
    NOT_IMPLEMENTED = "not_implemented"  # nginx
    DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
    LINK_NOT_FOUND = "link_not_found"
    LINK_PASSWORD_REQUIRED = "link_password_required"
    WRONG_LINK_PASSWORD = "wrong_link_password"
    UPLOAD_ONLY_LINK = "upload_only_link"
    NOT_AN_UPLOAD_LINK = "not_an_upload_link"
    GONE = "gone"
    LINK_EXPIRED = "link_expired"
    LINK_REVOKED = "link_revoked"
    LINK_USED_UP = "link_used_up"
    LINK_TARGET_GONE = "link_target_gone"
    # Team administration
    ACCOUNT_DISABLED = "account_disabled"
    READ_ONLY_TOKEN = "read_only_token"
    ADMIN_ONLY = "admin_only"
    INVITE_REQUIRED = "invite_required"
    REGISTRATION_CLOSED = "registration_closed"
    INVITE_FOR_ANOTHER_USER = "invite_for_another_user"
    WRONG_PASSWORD = "wrong_password"
    SESSION_NOT_FOUND = "session_not_found"
    INVITE_NOT_FOUND = "invite_not_found"
    RESET_NOT_FOUND = "reset_not_found"
    LAST_ADMIN = "last_admin"
    INVITE_USED = "invite_used"
    INVITE_EXPIRED = "invite_expired"
    RESET_USED = "reset_used"
    RESET_EXPIRED = "reset_expired"
    LINK_OWNER_DISABLED = "link_owner_disabled"


# The catalogue: each status with what it means and the codes it carries (the first is the
# status's generic code). The OpenAPI spec documents each route's statuses from it.
STATUS_CODES: dict[int, tuple[str, tuple[ErrorCode, ...]]] = {
    400: (
        "Bad request",
        (
            ErrorCode.BAD_REQUEST,
            ErrorCode.NOT_MULTIPART,
            ErrorCode.INCOMPLETE_BODY,
            ErrorCode.BODY_TOO_LONG,
            ErrorCode.DIGEST_MISMATCH,
            ErrorCode.INVALID_DIGEST,
            ErrorCode.INVALID_METADATA,
            ErrorCode.FILENAME_REQUIRED,
            ErrorCode.LENGTH_REQUIRED,
            ErrorCode.UNSUPPORTED_CHECKSUM,
            ErrorCode.INVALID_CHECKSUM,
            ErrorCode.MALFORMED_MULTIPART,
            ErrorCode.HEADER_TOO_LARGE,
        ),
    ),
    401: (
        "Missing, invalid or expired token",
        (
            ErrorCode.UNAUTHORIZED,
            ErrorCode.INVALID_CREDENTIALS,
            ErrorCode.INTERNAL_TOKEN_REQUIRED,
            ErrorCode.LINK_PASSWORD_REQUIRED,
            ErrorCode.WRONG_LINK_PASSWORD,
            ErrorCode.ACCOUNT_DISABLED,
        ),
    ),
    403: (
        "The token's user may not act on this path",
        (
            ErrorCode.FORBIDDEN,
            ErrorCode.NOT_YOUR_NAMESPACE,
            ErrorCode.NOT_THE_OWNER,
            ErrorCode.UPLOAD_ONLY_LINK,
            ErrorCode.NOT_AN_UPLOAD_LINK,
            ErrorCode.READ_ONLY_TOKEN,
            ErrorCode.ADMIN_ONLY,
            ErrorCode.INVITE_REQUIRED,
            ErrorCode.REGISTRATION_CLOSED,
            ErrorCode.INVITE_FOR_ANOTHER_USER,
            ErrorCode.WRONG_PASSWORD,
        ),
    ),
    404: (
        "Not found (or not visible to the caller)",
        (
            ErrorCode.NOT_FOUND,
            ErrorCode.USER_NOT_FOUND,
            ErrorCode.FILE_NOT_FOUND,
            ErrorCode.UPLOAD_NOT_FOUND,
            ErrorCode.OBJECT_NOT_FOUND,
            ErrorCode.NOT_A_FILE,
            ErrorCode.TRASH_ENTRY_NOT_FOUND,
            ErrorCode.VERSION_NOT_FOUND,
            ErrorCode.GONE_MEANWHILE,
            ErrorCode.LINK_NOT_FOUND,
            ErrorCode.SESSION_NOT_FOUND,
            ErrorCode.INVITE_NOT_FOUND,
            ErrorCode.RESET_NOT_FOUND,
        ),
    ),
    405: ("Method not allowed", (ErrorCode.METHOD_NOT_ALLOWED,)),
    408: ("The client sent nothing for too long in the middle of the body", (ErrorCode.REQUEST_TIMEOUT,)),
    409: (
        "Conflict",
        (
            ErrorCode.CONFLICT,
            ErrorCode.USERNAME_TAKEN,
            ErrorCode.OFFSET_MISMATCH,
            ErrorCode.SUPERSEDED_UPLOAD,
            ErrorCode.UPLOAD_BUSY,
            ErrorCode.UPLOAD_CORRUPT,
            ErrorCode.PATH_IS_A_FILE,
            ErrorCode.PATH_IS_A_FOLDER,
            ErrorCode.TARGET_EXISTS,
            ErrorCode.CONCURRENT_CHANGE,
            ErrorCode.LAST_ADMIN,
        ),
    ),
    410: (
        "The share link, invitation or reset token no longer works",
        (
            ErrorCode.GONE,
            ErrorCode.LINK_EXPIRED,
            ErrorCode.LINK_REVOKED,
            ErrorCode.LINK_USED_UP,
            ErrorCode.LINK_TARGET_GONE,
            ErrorCode.LINK_OWNER_DISABLED,
            ErrorCode.INVITE_USED,
            ErrorCode.INVITE_EXPIRED,
            ErrorCode.RESET_USED,
            ErrorCode.RESET_EXPIRED,
        ),
    ),
    411: ("Neither Content-Length nor Transfer-Encoding", (ErrorCode.LENGTH_REQUIRED,)),
    412: ("Precondition failed", (ErrorCode.PRECONDITION_FAILED, ErrorCode.TUS_VERSION)),
    413: (
        "Too large or over quota",
        (ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.QUOTA_EXCEEDED, ErrorCode.FILE_TOO_LARGE, ErrorCode.TOO_LARGE),
    ),
    414: ("The request URI is too long (nginx)", (ErrorCode.URI_TOO_LONG,)),
    421: (
        "A Host this server does not answer for (nginx, with a server name configured)",
        (ErrorCode.MISDIRECTED_REQUEST,),
    ),
    415: ("Unsupported media type", (ErrorCode.UNSUPPORTED_MEDIA_TYPE,)),
    416: ("Range not satisfiable", (ErrorCode.RANGE_NOT_SATISFIABLE,)),
    422: (
        "Invalid input",
        (
            ErrorCode.INVALID_INPUT,
            ErrorCode.INVALID_CURSOR,
            ErrorCode.INVALID_CONTENT_TYPE,
            ErrorCode.FILE_FIELD_MISSING,
            ErrorCode.GRANT_TO_OWNER,
            ErrorCode.PATH_TOO_DEEP,
            ErrorCode.PATH_TOO_LONG,
            ErrorCode.MOVE_INTO_ITSELF,
        ),
    ),
    429: ("Too many requests", (ErrorCode.TOO_MANY_REQUESTS, ErrorCode.TOO_MANY_UPLOADS)),
    460: ("Upload-Checksum mismatch (tus checksum extension)", (ErrorCode.CHECKSUM_MISMATCH,)),
    500: ("Internal error", (ErrorCode.INTERNAL_ERROR,)),
    501: ("A transfer encoding nginx does not implement", (ErrorCode.NOT_IMPLEMENTED,)),
    503: ("A dependency is unavailable", (ErrorCode.DEPENDENCY_UNAVAILABLE,)),
}


def generic_code(status_code: int) -> ErrorCode:
    """The code of an error that only has a status (Starlette's own 404 and 405, for example)."""
    if status_code in STATUS_CODES:
        return STATUS_CODES[status_code][1][0]
    return ErrorCode.BAD_REQUEST if status_code < 500 else ErrorCode.INTERNAL_ERROR


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class OAuthErrorCode(StrEnum):
    """RFC 6749 §5.2: what an OAuth2 client (Swagger UI's Authorize dialog among them) reads from a
    failed token request; 429 and 503 have no code there, so they borrow §4.1.2.1's."""

    INVALID_REQUEST = "invalid_request"
    INVALID_CLIENT = "invalid_client"
    INVALID_GRANT = "invalid_grant"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
    SERVER_ERROR = "server_error"


class TokenErrorResponse(BaseModel):
    """A failed `POST /auth/token`: the RFC 6749 §5.2 fields, and LiftBit's usual error object in
    `liftbit_error` (the same code and message every other route answers with)."""

    error: OAuthErrorCode
    error_description: str
    liftbit_error: ErrorDetail


def oauth_code(status_code: int) -> OAuthErrorCode:
    if status_code == 401:
        return OAuthErrorCode.INVALID_GRANT
    if status_code in (429, 503):
        return OAuthErrorCode.TEMPORARILY_UNAVAILABLE
    if status_code >= 500:
        return OAuthErrorCode.SERVER_ERROR
    return OAuthErrorCode.INVALID_REQUEST


def token_error_json(
    status_code: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = TokenErrorResponse(
        error=oauth_code(status_code), error_description=message, liftbit_error=ErrorDetail(code=code, message=message)
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def token_error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """Like error_responses, in the shape of a token endpoint's failures."""
    return {
        status_code: entry | {"model": TokenErrorResponse}
        for status_code, entry in error_responses(*status_codes).items()
    }


class LiftbitError(Exception):
    """An error with an HTTP status; raise a subclass from domain code, handlers render it."""

    status_code = 500
    code = ErrorCode.INTERNAL_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
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
        return {"error": {"code": self.code.value, "message": self.message}}


class BadRequest(LiftbitError):
    status_code, code = 400, ErrorCode.BAD_REQUEST


class Unauthorized(LiftbitError):
    status_code, code = 401, ErrorCode.UNAUTHORIZED

    def __init__(self, message: str = "missing, invalid or expired bearer token", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(LiftbitError):
    status_code, code = 403, ErrorCode.FORBIDDEN


class NotFound(LiftbitError):
    status_code, code = 404, ErrorCode.NOT_FOUND


class Conflict(LiftbitError):
    status_code, code = 409, ErrorCode.CONFLICT


class RequestTimeout(LiftbitError):
    status_code, code = 408, ErrorCode.REQUEST_TIMEOUT


class Gone(LiftbitError):
    status_code, code = 410, ErrorCode.GONE


class LengthRequired(LiftbitError):
    status_code, code = 411, ErrorCode.LENGTH_REQUIRED


class PreconditionFailed(LiftbitError):
    status_code, code = 412, ErrorCode.PRECONDITION_FAILED


class PayloadTooLarge(LiftbitError):
    status_code, code = 413, ErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(LiftbitError):
    status_code, code = 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE


class RangeNotSatisfiable(LiftbitError):
    status_code, code = 416, ErrorCode.RANGE_NOT_SATISFIABLE


class InvalidInput(LiftbitError):
    status_code, code = 422, ErrorCode.INVALID_INPUT


class TooManyRequests(LiftbitError):
    status_code, code = 429, ErrorCode.TOO_MANY_REQUESTS


class ChecksumMismatch(LiftbitError):
    status_code, code = 460, ErrorCode.CHECKSUM_MISMATCH  # tus checksum extension


class ServiceUnavailable(LiftbitError):
    """A dependency (database, S3, broker, another service) did not answer."""

    status_code, code = 503, ErrorCode.DEPENDENCY_UNAVAILABLE

    def __init__(self, dependency: str, message: str | None = None, **kwargs: Any) -> None:
        # Every 503 says when to come back (RFC 9110 15.6.4); a second is what recoveries take here.
        kwargs.setdefault("headers", {"Retry-After": "1"})
        super().__init__(message or f"{dependency} is unavailable, try again shortly", **kwargs)
        self.dependency = dependency


def upload_not_found(upload_id: object) -> NotFound:
    return NotFound(f"upload {upload_id} not found or expired", code=ErrorCode.UPLOAD_NOT_FOUND)


def link_not_found() -> NotFound:
    return NotFound("no such link: check that the whole address was copied", code=ErrorCode.LINK_NOT_FOUND)


def link_used_up() -> Gone:
    return Gone("this link's downloads are used up", code=ErrorCode.LINK_USED_UP)


def account_disabled() -> Unauthorized:
    return Unauthorized("this account is disabled by an administrator", code=ErrorCode.ACCOUNT_DISABLED)


def last_admin() -> Conflict:
    return Conflict("this is the last enabled administrator; promote another one first", code=ErrorCode.LAST_ADMIN)


def error_for_status(status_code: int, message: str, code: ErrorCode | None = None) -> LiftbitError:
    """Rebuild the typed error another service answered with (its class matters to callers)."""
    for error_class in LiftbitError.__subclasses__():
        if error_class.status_code == status_code:
            return error_class(message, code=code)
    return LiftbitError(message, code=code, status_code=status_code)


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the given statuses: the error shape, and in the
    description the codes each status carries."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status_code in status_codes:
        meaning, codes = STATUS_CODES[status_code]
        listed = ", ".join(f"`{code}`" for code in codes)
        responses[status_code] = {"model": ErrorResponse, "description": f"{meaning}. Codes: {listed}"}
    return responses


def error_json(status_code: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code.value, "message": message}}
    return JSONResponse(body, status_code=status_code, headers=headers)


def _describe_validation_error(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header"))
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts) or "invalid input"


def token_error(exc: Exception) -> JSONResponse | None:
    """A token endpoint's failure in the RFC 6749 shape, or None for an exception that is not an
    answer (it goes on to the usual handlers)."""
    if isinstance(exc, LiftbitError):
        return token_error_json(exc.status_code, exc.code, exc.message, headers=exc.headers)
    if isinstance(exc, RequestValidationError):
        return token_error_json(422, ErrorCode.INVALID_INPUT, _describe_validation_error(exc))
    return None


async def _handle_liftbit_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LiftbitError)
    if exc.status_code >= 500:
        log.warning("request_failed", code=exc.code, message=exc.message)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


async def _handle_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_json(422, ErrorCode.INVALID_INPUT, _describe_validation_error(exc))


async def _handle_http_exception(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_json(exc.status_code, generic_code(exc.status_code), message, headers=dict(exc.headers or {}))


async def _handle_invalid_name(_: Request, exc: Exception) -> JSONResponse:
    return error_json(422, ErrorCode.INVALID_INPUT, str(exc))


async def _handle_client_gone(_: Request, __: Exception) -> Response:
    # The client closed the connection mid-request: nothing was stored and nobody hears an answer.
    log.info("client_disconnected")
    return Response(status_code=400)


async def _handle_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", exc_info=exc)
    return error_json(500, ErrorCode.INTERNAL_ERROR, "internal error; the request id in the logs tells more")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LiftbitError, _handle_liftbit_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(InvalidName, _handle_invalid_name)
    app.add_exception_handler(ClientDisconnect, _handle_client_gone)
    app.add_exception_handler(Exception, _handle_unexpected)
