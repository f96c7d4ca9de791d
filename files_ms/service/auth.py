"""Bearer tokens: resolved by metadata_ms, cached briefly here. Logins are throttled by
metadata_ms (its counters are shared by every replica).

A cached answer (user, role, scope) is trusted for at most TOKEN_CACHE_SECONDS. Whatever ends a
token or changes who it speaks for through this replica (logout, password change, session
revocation, disabling or deleting the account, a role change) drops that user's entries here at
once; another replica may go on accepting the token until its entry runs out, so that bound is
the TTL (README, Security)."""

from __future__ import annotations

import time

from cachetools import TTLCache

from files_ms.clients.protocols import Metadata
from liftbit_common.contracts import IssuedToken, LoginAttempt, TokenOwner
from liftbit_common.errors import Unauthorized
from liftbit_common.rules import token_digest


class Authenticator:
    def __init__(self, metadata: Metadata, *, cache_seconds: float) -> None:
        self._metadata = metadata
        self._cache_seconds = cache_seconds
        # token digest → (whom it speaks for, monotonic time the entry stops being trusted)
        self._cache: TTLCache[str, tuple[TokenOwner, float]] = TTLCache(maxsize=10_000, ttl=max(cache_seconds, 0.001))

    async def identity_for(self, token: str | None) -> TokenOwner:
        if not token:
            raise Unauthorized("missing bearer token")
        digest = token_digest(token)
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        owner = await self._metadata.resolve_token(digest)
        if self._cache_seconds > 0:
            seconds_left = self._cache_seconds
            if owner.expires_at is not None:
                seconds_left = min(seconds_left, owner.expires_at.timestamp() - time.time())
            self._cache[digest] = (owner, time.monotonic() + seconds_left)
        return owner

    async def username_for(self, token: str | None) -> str:
        return (await self.identity_for(token)).username

    async def login(self, attempt: LoginAttempt) -> IssuedToken:
        return await self._metadata.issue_token(attempt)

    async def logout(self, token: str) -> None:
        digest = token_digest(token)
        self._cache.pop(digest, None)
        await self._metadata.revoke_token(digest)

    def forget_user(self, username: str) -> None:
        """Drop the user's cached tokens at once (metadata_ms already changed or deleted them)."""
        for digest, (cached, _) in list(self._cache.items()):
            if cached.username == username:
                self._cache.pop(digest, None)
