"""Password hashing with argon2id; verification takes the same time whether or not the user exists."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class PasswordVault:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        # Verified against when the username is unknown, so both cases cost one argon2 verify.
        self._decoy_hash = self._hasher.hash("decoy password that matches nothing")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._decoy_hash, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False
