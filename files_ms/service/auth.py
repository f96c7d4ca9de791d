"""Bearer tokens: resolved by metadata_ms, cached briefly here; logins are rate-limited."""

from __future__ import annotations

import time

from cachetools import TTLCache
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from files_ms.clients.protocols import Metadata
from liftbit_common.contracts import Credentials, IssuedToken
from liftbit_common.errors import TooManyRequests, Unauthorized
from liftbit_common.rules import token_digest


class Authenticator:
    def __init__(self, metadata: Metadata, *, cache_seconds: float) -> None:
        self._metadata = metadata
        self._cache_seconds = cache_seconds
        # token digest → (username, monotonic time the entry stops being trusted)
        self._cache: TTLCache[str, tuple[str, float]] = TTLCache(maxsize=10_000, ttl=max(cache_seconds, 0.001))

    async def username_for(self, token: str | None) -> str:
        if not token:
            raise Unauthorized("missing bearer token")
        digest = token_digest(token)
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        owner = await self._metadata.resolve_token(digest)
        if self._cache_seconds > 0:
            seconds_left = owner.expires_at.timestamp() - time.time()
            trusted_until = time.monotonic() + min(self._cache_seconds, seconds_left)
            self._cache[digest] = (owner.username, trusted_until)
        return owner.username

    async def login(self, credentials: Credentials) -> IssuedToken:
        return await self._metadata.issue_token(credentials)

    async def logout(self, token: str) -> None:
        digest = token_digest(token)
        self._cache.pop(digest, None)
        await self._metadata.revoke_token(digest)

    def forget_user(self, username: str) -> None:
        """Drop cached tokens of a deleted account at once (metadata_ms already deleted them)."""
        for digest, (cached_user, _) in list(self._cache.items()):
            if cached_user == username:
                self._cache.pop(digest, None)


class LoginThrottle:
    """Moving-window limits on failed logins, per username and per client address (429).
    Successful logins do not count: scripts that log in often are not attacks."""

    def __init__(self, per_user: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._limits = (parse(per_user), parse(per_address))

    def _keys(self, username: str, address: str) -> tuple[tuple[RateLimitItem, str], ...]:
        per_user, per_address = self._limits
        return (per_user, f"user:{username}"), (per_address, f"addr:{address}")

    async def check(self, username: str, address: str) -> None:
        for limit, key in self._keys(username, address):
            if not await self._limiter.test(limit, "login", key):
                reset_at, _ = await self._limiter.get_window_stats(limit, "login", key)
                retry_after = max(1, int(reset_at - time.time()) + 1)
                raise TooManyRequests(
                    f"too many failed logins; try again in {retry_after} s",
                    headers={"Retry-After": str(retry_after)},
                )

    async def record_failure(self, username: str, address: str) -> None:
        for limit, key in self._keys(username, address):
            await self._limiter.hit(limit, "login", key)
