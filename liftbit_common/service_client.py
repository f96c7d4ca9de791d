"""One pooled keep-alive HTTP client per internal service, with retries and typed errors.

aiohttp rather than httpx: measured with bench/transfer.py, httpx costs ~0.6 ms of CPU per request
on one connection and ~2 ms at 32 concurrent requests (its pool bookkeeping), aiohttp ~0.15 ms
either way, and files_ms makes two or three internal calls per public request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import aiohttp
from pydantic import TypeAdapter

from liftbit_common.errors import ServiceUnavailable, error_for_status
from liftbit_common.observability import request_id_headers
from liftbit_common.service_app import INTERNAL_TOKEN_HEADER

T = TypeVar("T")

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Nothing reached the server: safe to try again whatever the method.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Sent, but no answer in time: the request may have taken effect.
_NO_ANSWER = (TimeoutError, aiohttp.ServerTimeoutError)


@dataclass(frozen=True)
class ServiceResponse:
    status_code: int
    content: bytes
    retry_after: str | None = None  # passed on with a 429 or 503, so the caller learns when to retry

    def json(self) -> Any:
        return json.loads(self.content)


def raise_for_error(response: ServiceResponse, service: str) -> None:
    """Turn a service's error body back into the same typed error, so it propagates unchanged."""
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "upstream_error", f"{service} answered {response.status_code}"
    retry = {"headers": {"Retry-After": response.retry_after}} if response.retry_after else {}
    if response.status_code >= 500:
        if response.status_code == 503:
            raise ServiceUnavailable(service, message, code=code, **retry)
        raise ServiceUnavailable(service, f"{service} failed: {message}")
    error = error_for_status(response.status_code, message, code)
    error.headers.update(retry.get("headers", {}))
    raise error


class StreamingResponse:
    """A response whose body is read when the caller wants it."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status

    async def aread(self) -> bytes:
        return await self._response.read()


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
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ServiceResponse:
        """A request with a small body (or none); retried with backoff while the service is away."""
        idempotent = method in _IDEMPOTENT
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                async with self._client().request(
                    method,
                    path,
                    json=json,
                    params=_params(params),
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

    async def fetch(self, shape: type[T], method: str, path: str, **kwargs: Any) -> T:
        """``call``, then parse the JSON answer as ``shape`` (a model, or e.g. ``list[Model]``)."""
        response = await self.call(method, path, **kwargs)
        return _adapter(shape).validate_json(response.content)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        content: AsyncIterable[bytes] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[StreamingResponse]:
        """A request or response body that streams; not retried, since a stream cannot be replayed."""
        try:
            raw = await self._client().request(
                method,
                path,
                data=content,
                params=_params(params),
                headers=self._headers(headers),
                timeout=self._client_timeout(timeout),
            )
        except _NO_ANSWER as exc:
            raise ServiceUnavailable(self.name, f"{self.name} did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise ServiceUnavailable(self.name) from exc
        try:
            if raw.status >= 400:
                raise_for_error(
                    ServiceResponse(raw.status, await raw.read(), raw.headers.get("Retry-After")), self.name
                )
            yield StreamingResponse(raw)
        finally:
            raw.release()

    async def health_checks(self) -> dict[str, str]:
        """This service's /health, flattened: its own state and each of its dependencies'."""
        try:
            async with self._client().get(
                "/health", headers=request_id_headers(), timeout=self._client_timeout(3.0)
            ) as raw:
                status, body = raw.status, await raw.read()
            checks = dict(json.loads(body).get("checks", {}))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return {self.name: f"unreachable ({type(exc).__name__})"}
        return {self.name: "ok" if status == 200 else "unavailable", **checks}

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {**request_id_headers(), **(extra or {})}

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    return {name: str(value) for name, value in params.items()} if params else None


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(shape: type[T]) -> TypeAdapter[T]:
    """One TypeAdapter per response shape; building them is not free."""
    if shape not in _ADAPTERS:
        _ADAPTERS[shape] = TypeAdapter(shape)
    return cast("TypeAdapter[T]", _ADAPTERS[shape])
