"""Bearer tokens: resolved by metadata_ms, cached briefly here. Logins are throttled by
metadata_ms (its counters are shared by every replica)."""

from __future__ import annotations

import time

from cachetools import TTLCache

from files_ms.clients.protocols import Metadata
from liftbit_common.contracts import IssuedToken, LoginAttempt
from liftbit_common.errors import Unauthorized
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

    async def login(self, attempt: LoginAttempt) -> IssuedToken:
        return await self._metadata.issue_token(attempt)

    async def logout(self, token: str) -> None:
        digest = token_digest(token)
        self._cache.pop(digest, None)
        await self._metadata.revoke_token(digest)

    def forget_user(self, username: str) -> None:
        """Drop cached tokens of a deleted account at once (metadata_ms already deleted them)."""
        for digest, (cached_user, _) in list(self._cache.items()):
            if cached_user == username:
                self._cache.pop(digest, None)
