"""Accounts: registration, login and logout, and deletion of everything a user owns."""

from __future__ import annotations

from files_ms.clients.protocols import Metadata
from files_ms.service.access import AccessPolicy
from files_ms.service.auth import Authenticator
from files_ms.service.files import FileService
from liftbit_common.contracts import IssuedToken, LoginAttempt, NewAccount, UserCreated, UserInfo


class AccountService:
    def __init__(
        self,
        metadata: Metadata,
        authenticator: Authenticator,
        files: FileService,
    ) -> None:
        self._metadata = metadata
        self._authenticator = authenticator
        self._files = files

    async def register(self, new_user: NewAccount) -> UserCreated:
        return await self._metadata.register(new_user)

    async def describe(self, actor: str, username: str) -> UserInfo:
        AccessPolicy.require_self(actor, username)
        return await self._metadata.describe_user(username)

    async def delete(self, actor: str, username: str) -> None:
        """Files, grants, tokens and uploads go in one transaction; then the objects."""
        AccessPolicy.require_self(actor, username)
        removed = await self._metadata.remove_user(username)
        self._authenticator.forget_user(username)
        await self._files.discard(removed.objects)

    async def login(self, attempt: LoginAttempt) -> IssuedToken:
        return await self._authenticator.login(attempt)

    async def logout(self, token: str) -> None:
        await self._authenticator.logout(token)
