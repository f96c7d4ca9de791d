"""Accounts: registration, login and logout, passwords, sessions and API tokens, and deletion of
everything a user owns."""

from __future__ import annotations

from files_ms.clients.protocols import Metadata
from files_ms.service.access import AccessPolicy
from files_ms.service.admin import new_secret_token
from files_ms.service.auth import Authenticator
from files_ms.service.files import FileService
from liftbit_common.contracts import (
    ApiTokenInfo,
    ApiTokenRequest,
    CreatedApiToken,
    IssuedToken,
    LoginAttempt,
    NewAccount,
    NewApiToken,
    NewUser,
    PasswordChange,
    PasswordChangeRequest,
    PasswordReset,
    ResetByHash,
    SessionInfo,
    UserCreated,
    UserInfo,
)
from liftbit_common.rules import token_digest


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

    async def register(self, new_user: NewUser, address: str) -> UserCreated:
        invite_hash = token_digest(new_user.invite) if new_user.invite else None
        account = NewAccount(
            username=new_user.username, password=new_user.password, invite_hash=invite_hash, address=address
        )
        return await self._metadata.register(account)

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

    async def change_password(self, actor: str, username: str, token: str, change: PasswordChange) -> None:
        """Every other token of the user is revoked; the asking one stays."""
        AccessPolicy.require_self(actor, username)
        request = PasswordChangeRequest(**change.model_dump(), keep_token_hash=token_digest(token))
        await self._metadata.change_password(username, request)
        self._authenticator.forget_user(username)

    async def reset_password(self, reset: PasswordReset) -> None:
        done = await self._metadata.reset_password(
            ResetByHash(token_hash=token_digest(reset.token), new_password=reset.new_password)
        )
        self._authenticator.forget_user(done.username)

    async def sessions(self, actor: str, username: str, token: str) -> list[SessionInfo]:
        AccessPolicy.require_self(actor, username)
        return await self._metadata.sessions(username, token_digest(token))

    async def revoke_session(self, actor: str, username: str, session_id: str) -> None:
        AccessPolicy.require_self(actor, username)
        await self._metadata.revoke_session(username, session_id)
        self._authenticator.forget_user(username)

    async def revoke_other_sessions(self, actor: str, username: str, token: str) -> None:
        AccessPolicy.require_self(actor, username)
        await self._metadata.revoke_sessions(username, token_digest(token))
        self._authenticator.forget_user(username)

    async def create_api_token(self, actor: str, username: str, new: NewApiToken) -> CreatedApiToken:
        AccessPolicy.require_self(actor, username)
        token = new_secret_token()
        created = await self._metadata.create_api_token(
            username, ApiTokenRequest(**new.model_dump(), token_hash=token_digest(token))
        )
        return CreatedApiToken(**created.model_dump(), token=token)

    async def api_tokens(self, actor: str, username: str) -> list[ApiTokenInfo]:
        AccessPolicy.require_self(actor, username)
        return await self._metadata.api_tokens(username)

    async def revoke_api_token(self, actor: str, username: str, token_id: str) -> None:
        AccessPolicy.require_self(actor, username)
        await self._metadata.revoke_api_token(username, token_id)
        self._authenticator.forget_user(username)
