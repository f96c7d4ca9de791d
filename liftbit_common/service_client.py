"""One pooled keep-alive HTTP client per internal service, with retries and typed errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import httpx
from pydantic import TypeAdapter

from liftbit_common.errors import ServiceUnavailable, error_for_status
from liftbit_common.observability import request_id_headers
from liftbit_common.service_app import INTERNAL_TOKEN_HEADER

T = TypeVar("T")

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Nothing reached the server: safe to try again whatever the method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def raise_for_error(response: httpx.Response, service: str) -> None:
    """Turn a service's error body back into the same typed error, so it propagates unchanged."""
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "upstream_error", f"{service} answered {response.status_code}"
    if response.status_code >= 500:
        if response.status_code == 503:
            raise ServiceUnavailable(service, message, code=code)
        raise ServiceUnavailable(service, f"{service} failed: {message}")
    raise error_for_status(response.status_code, message, code)


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
        self._attempts = attempts
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={INTERNAL_TOKEN_HEADER: token},
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            # Keep-alive shorter than the servers' (30 s), so we never reuse a closing connection.
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=20,
            ),
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
    ) -> httpx.Response:
        """A request with a small body (or none); retried with backoff while the service is away."""
        idempotent = method in _IDEMPOTENT
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                response = await self._client.request(
                    method,
                    path,
                    json=json,
                    params=params,
                    headers=self._headers(headers),
                    timeout=_timeout(timeout),
                )
            except _NOT_SENT as exc:
                if last:
                    raise ServiceUnavailable(self.name) from exc
            except httpx.TimeoutException as exc:
                raise ServiceUnavailable(self.name, f"{self.name} did not answer in time") from exc
            except httpx.TransportError as exc:
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
    ) -> AsyncIterator[httpx.Response]:
        """A request or response body that streams; not retried, since a stream cannot be replayed."""
        request = self._client.build_request(
            method,
            path,
            content=content,
            params=params,
            headers=self._headers(headers),
            timeout=_timeout(timeout),
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise ServiceUnavailable(self.name, f"{self.name} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(self.name) from exc
        try:
            if response.status_code >= 400:
                await response.aread()
                raise_for_error(response, self.name)
            yield response
        finally:
            await response.aclose()

    async def health_checks(self) -> dict[str, str]:
        """This service's /health, flattened: its own state and each of its dependencies'."""
        try:
            response = await self._client.get("/health", timeout=3.0, headers=request_id_headers())
            checks = dict(response.json().get("checks", {}))
        except (httpx.HTTPError, ValueError) as exc:
            return {self.name: f"unreachable ({type(exc).__name__})"}
        return {self.name: "ok" if response.status_code == 200 else "unavailable", **checks}

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {**request_id_headers(), **(extra or {})}

    async def aclose(self) -> None:
        await self._client.aclose()


def _timeout(seconds: float | None) -> httpx.Timeout | Any:
    return httpx.Timeout(seconds, connect=2.0) if seconds is not None else httpx.USE_CLIENT_DEFAULT


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(shape: type[T]) -> TypeAdapter[T]:
    """One TypeAdapter per response shape; building them is not free."""
    if shape not in _ADAPTERS:
        _ADAPTERS[shape] = TypeAdapter(shape)
    return cast("TypeAdapter[T]", _ADAPTERS[shape])
