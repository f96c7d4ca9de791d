"""One pooled keep-alive HTTP client per internal service, with retries and typed errors.

aiohttp rather than httpx: measured with bench/transfer.py, httpx costs ~0.6 ms of CPU per request
on one connection and ~2 ms at 32 concurrent requests (its pool bookkeeping), aiohttp ~0.15 ms
either way, and files_ms makes two or three internal calls per public request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
from pydantic import ValidationError

from liftbit_common.errors import ErrorResponse, ServiceUnavailable, error_for_status, generic_code
from liftbit_common.health import STARTING
from liftbit_common.internal_api.health import HEALTH
from liftbit_common.internal_api.route import AnswerT, Encoded, RequestT, Route
from liftbit_common.observability import request_id_headers
from liftbit_common.service_app import INTERNAL_TOKEN_HEADER

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Nothing reached the server: safe to try again whatever the method.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Sent, but no answer in time: the request may have taken effect.
_NO_ANSWER = (TimeoutError, aiohttp.ServerTimeoutError)
_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class ServiceResponse:
    status_code: int
    content: bytes
    retry_after: str | None = None  # passed on with a 429 or 503, so the caller learns when to retry


def raise_for_error(response: ServiceResponse, service: str) -> None:
    """Turn a service's error body back into the same typed error, so it propagates unchanged."""
    if response.status_code < 400:
        return
    try:
        detail = ErrorResponse.model_validate_json(response.content).error
        code, message = detail.code, detail.message
    except ValidationError:
        code, message = generic_code(response.status_code), f"{service} answered {response.status_code}"
    retry = {"headers": {"Retry-After": response.retry_after}} if response.retry_after else {}
    if response.status_code >= 500:
        if response.status_code == 503:
            raise ServiceUnavailable(service, message, code=code, **retry)
        raise ServiceUnavailable(service, f"{service} failed: {message}")
    error = error_for_status(response.status_code, message, code)
    error.headers.update(retry.get("headers", {}))
    raise error


def _encode(route: Route[RequestT, Any], request: RequestT | None) -> tuple[bytes | None, dict[str, str] | None]:
    """The JSON body or the query string that carries ``request``."""
    if route.request is None or request is None:
        if route.request is not None or request is not None:
            raise TypeError(f"{route.method} {route.path} takes {route.request}, not {type(request)}")
        return None, None
    if not isinstance(request, route.request):
        raise TypeError(f"{route.method} {route.path} takes {route.request.__name__}, not {type(request).__name__}")
    if route.request_in == "query":
        values = request.model_dump(mode="json", exclude_none=True)
        return None, {name: str(value) for name, value in values.items()}
    return request.model_dump_json().encode(), None


def _decode(route: Route[Any, AnswerT], response: ServiceResponse) -> AnswerT:
    if route.answer is None:
        return cast("AnswerT", None)
    return route.answer_adapter().validate_json(response.content)


class ServiceClient:
    def __init__(
        self,
        name: str,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 2.0,
        attempts: int = 3,
        max_connections: int = 100,
    ) -> None:
        self.name = name
        self._base_url = base_url
        self._token = token
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._attempts = attempts
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """The pooled session, created on first use inside the running event loop."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                base_url=self._base_url,
                headers={INTERNAL_TOKEN_HEADER: self._token},
                # Keep-alive shorter than the servers' (30 s), so we never reuse a closing connection.
                connector=aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=20),
                timeout=self._client_timeout(None),
                auto_decompress=False,
            )
        return self._session

    def _client_timeout(self, seconds: float | None) -> aiohttp.ClientTimeout:
        # What times out is a stall (no bytes for so long), never a long stream as a whole.
        return aiohttp.ClientTimeout(
            total=None, connect=self._connect_timeout, sock_read=seconds if seconds is not None else self._timeout
        )

    async def call(
        self,
        route: Route[RequestT, AnswerT],
        request: RequestT | None = None,
        /,
        *,
        timeout: float | None = None,
        **path: object,
    ) -> AnswerT:
        """Send ``request`` to ``route`` (the path filled from ``path``), retried with backoff while
        the service is away; the answer is validated into the route's answer model."""
        return _decode(route, await self._exchange(route, request, timeout, path))

    async def call_encoded(
        self,
        route: Route[RequestT, AnswerT],
        request: RequestT | None = None,
        /,
        *,
        timeout: float | None = None,
        **path: object,
    ) -> Encoded[AnswerT]:
        """As ``call``, the answer left as the service encoded it, for passing on."""
        response = await self._exchange(route, request, timeout, path)
        return Encoded(route.answer_shape(), response.content)

    async def _exchange(
        self, route: Route[RequestT, AnswerT], request: RequestT | None, timeout: float | None, path: dict[str, object]
    ) -> ServiceResponse:
        body, params = _encode(route, request)
        return await self._send(
            route.method,
            route.url(path),
            data=body,
            params=params,
            headers=_JSON if body is not None else None,
            timeout=timeout,
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        timeout: float | None,
    ) -> ServiceResponse:
        idempotent = method in _IDEMPOTENT
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                async with self._client().request(
                    method,
                    path,
                    data=data,
                    params=params,
                    headers=self._headers(headers),
                    timeout=self._client_timeout(timeout),
                ) as raw:
                    response = ServiceResponse(raw.status, await raw.read(), raw.headers.get("Retry-After"))
            except _NOT_SENT as exc:
                if last:
                    raise ServiceUnavailable(self.name) from exc
            except _NO_ANSWER as exc:
                raise ServiceUnavailable(self.name, f"{self.name} did not answer in time") from exc
            except aiohttp.ClientError as exc:  # e.g. the connection dropped mid-request
                if last or not idempotent:
                    raise ServiceUnavailable(self.name) from exc
            else:
                if response.status_code != 503 or last or not idempotent:
                    raise_for_error(response, self.name)
                    return response
            await asyncio.sleep(0.1 * 3 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def stream(
        self,
        route: Route[RequestT, AnswerT],
        request: RequestT | None,
        content: AsyncIterable[bytes],
        /,
        *,
        timeout: float | None = None,
        **path: object,
    ) -> AnswerT:
        """Send ``content`` as the body of ``route`` (``request`` in the query string) as it comes;
        not retried, since a stream cannot be replayed."""
        if not route.streams_body:
            raise TypeError(f"{route.method} {route.path} takes no streamed body")
        _, params = _encode(route, request)
        try:
            raw = await self._client().request(
                route.method,
                route.url(path),
                data=content,
                params=params,
                headers=self._headers(None),
                timeout=self._client_timeout(timeout),
            )
        except _NO_ANSWER as exc:
            raise ServiceUnavailable(self.name, f"{self.name} did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise ServiceUnavailable(self.name) from exc
        try:
            response = ServiceResponse(raw.status, await raw.read(), raw.headers.get("Retry-After"))
        finally:
            raw.release()
        raise_for_error(response, self.name)
        return _decode(route, response)

    async def health_checks(self) -> dict[str, str]:
        """This service's /health, flattened: its own state and each of its dependencies'."""
        try:
            async with self._client().request(
                HEALTH.method, HEALTH.path, headers=request_id_headers(), timeout=self._client_timeout(3.0)
            ) as raw:
                status, body = raw.status, await raw.read()
            report = HEALTH.answer_adapter().validate_json(body)
        except (aiohttp.ClientError, TimeoutError, ValidationError) as exc:
            return {self.name: f"unreachable ({type(exc).__name__})"}
        state = "ok" if status == 200 else STARTING if report.status == STARTING else "unavailable"
        return {self.name: state, **report.checks}

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {**request_id_headers(), **(extra or {})}

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
