"""Share links through files_ms: the owner's side (create, list, revoke) and the recipient's
(open a link, list a linked folder, download), with the rules of what a recipient may do.

- A token is 256 random bits (``secrets``), shown once; only its SHA-256 is stored. A string that
  cannot be a token is answered 404 without asking metadata_ms, like an unknown one.
- A link with a password needs it on every request: in ``X-Link-Password`` (scripts), or once in
  the page's form, after which a signed, HttpOnly, SameSite=Strict cookie scoped to the link's
  path stands for it for ``link_cookie_seconds``.
- What counts as a download (the issue's point 3): a GET of the whole file, or of a range that
  starts at byte 0, that is answered with bytes. HEAD, 304, the page, and ranges that start later
  do not count. A counted download gives the client a ticket cookie (signed, scoped to the link)
  under which, for ``link_cookie_seconds``, its further requests of the link count no more (a
  video that seeks, a download manager that resumes) and are served even once the limit is
  reached; without a ticket a used-up link answers 410 to everything.
- A folder link reaches exactly what is below the folder: the recipient's path is joined below
  the folder's own path after the path rules refused '..' and empty segments.
- An upload-only link ("file request") shows and serves nothing: 403 to downloads and listings.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from files_ms.clients.protocols import Metadata
from files_ms.service.access import AccessPolicy
from files_ms.service.files import Conditions, Download, FileService
from files_ms.service.http_semantics import ByteRange
from liftbit_common.contracts import (
    CreatedLink,
    FolderInfo,
    LinkAccess,
    LinkDownload,
    LinkInfo,
    LinkRequest,
    NewLink,
    NodePage,
    ResolvedLink,
    StoredFile,
)
from liftbit_common.errors import ErrorCode, Forbidden, NotFound, Unauthorized, link_not_found, link_used_up

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkCookies:
    """Signed values that stand for "this browser gave the link's password" (``pass``) and "this
    client's download of the link was counted" (``ticket``): ``<expiry>.<HMAC(link, purpose,
    expiry)>``. The key is derived from the internal token, so every replica checks the others'."""

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._key = hmac.new(secret.encode(), b"liftbit share-link cookies", hashlib.sha256).digest()
        self.max_age_seconds = max_age_seconds

    def _signature(self, link_id: str, purpose: str, expiry: int) -> str:
        message = f"{link_id}\n{purpose}\n{expiry}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self, link_id: str, purpose: str) -> str:
        expiry = int(time.time()) + self.max_age_seconds
        return f"{expiry}.{self._signature(link_id, purpose, expiry)}"

    def valid(self, value: str | None, link_id: str, purpose: str) -> bool:
        expiry, _, signature = (value or "").partition(".")
        if not expiry.isdigit() or int(expiry) < time.time():
            return False
        return hmac.compare_digest(signature, self._signature(link_id, purpose, int(expiry)))


@dataclass(frozen=True)
class Recipient:
    """What a request through a link brings: the token, a password (header or form), its cookies."""

    token: str
    address: str
    password: str | None = None
    pass_cookie: str | None = None
    ticket_cookie: str | None = None


@dataclass(frozen=True)
class OpenedLink:
    resolved: ResolvedLink
    has_ticket: bool
    address: str

    @property
    def link_id(self) -> str:
        return self.resolved.link.id

    def folder(self) -> FolderInfo | None:
        node = self.resolved.node.node
        return node if isinstance(node, FolderInfo) else None


@dataclass(frozen=True)
class LinkDownloadAnswer:
    download: Download
    counted: bool  # a ticket cookie goes with the answer


# What a request wants of a link: its bytes or listing, to upload, or either (the password form).
LinkUse = Literal["read", "upload", "either"]


def counts_as_download(byte_range: ByteRange | None) -> bool:
    return byte_range is None or byte_range.start == 0


class LinkService:
    def __init__(self, metadata: Metadata, access: AccessPolicy, files: FileService, cookies: LinkCookies) -> None:
        self._metadata = metadata
        self._access = access
        self._files = files
        self.cookies = cookies

    # The owner's side.

    async def create(self, actor: str, node_id: str, new: NewLink, base_url: str) -> CreatedLink:
        await self._access.owned_by_id(actor, node_id)
        token = secrets.token_urlsafe(32)
        request = LinkRequest(**new.model_dump(), owner=actor, token_hash=token_hash(token))
        stored = await self._metadata.create_link(node_id, request)
        url = f"{base_url}/s/{token}"
        return CreatedLink(**stored.public(url).model_dump(exclude={"url"}), url=url, token=token)

    async def links(self, actor: str, node_id: str) -> list[LinkInfo]:
        await self._access.owned_by_id(actor, node_id)
        return [link.public() for link in await self._metadata.links(node_id, actor)]

    async def revoke(self, actor: str, link_id: str) -> None:
        await self._metadata.revoke_link(link_id, actor)

    # The recipient's side.

    async def open(self, recipient: Recipient, *, use: LinkUse = "read") -> OpenedLink:
        """The link if it works for this recipient and this ``use``: 404 unknown, 410 gone (or,
        to read, used up without a ticket), 401 password missing or wrong, 403 an upload-only link
        used to read or the other way round."""
        if not _TOKEN.match(recipient.token):
            raise link_not_found()
        access = LinkAccess(password=recipient.password, address=recipient.address)
        resolved = await self._metadata.resolve_link(token_hash(recipient.token), access)
        link = resolved.link
        if (
            link.has_password
            and not resolved.password_checked
            and not self.cookies.valid(recipient.pass_cookie, link.id, "pass")
        ):
            raise Unauthorized(
                "this link needs its password (X-Link-Password header, or the form on its page)",
                code=ErrorCode.LINK_PASSWORD_REQUIRED,
                headers={"WWW-Authenticate": 'X-Link-Password realm="share link"'},
            )
        if link.upload_only and use == "read":
            raise Forbidden("this link only accepts uploads", code=ErrorCode.UPLOAD_ONLY_LINK)
        if use == "upload" and not link.upload_only:
            raise Forbidden("this link does not accept uploads", code=ErrorCode.NOT_AN_UPLOAD_LINK)
        has_ticket = self.cookies.valid(recipient.ticket_cookie, link.id, "ticket")
        if link.used_up and not has_ticket and use == "read":
            raise link_used_up()
        return OpenedLink(resolved, has_ticket, recipient.address)

    @staticmethod
    def _below(opened: OpenedLink, path: str | None) -> str:
        """The owner's path of ``path`` below the linked folder (None: the folder itself)."""
        folder = opened.folder()
        if folder is None:
            raise link_not_found()  # a file link has no paths below it
        return f"{folder.path}/{path}" if path else folder.path

    async def children(self, opened: OpenedLink, path: str | None, limit: int, cursor: str | None) -> NodePage:
        """A linked folder's direct children, or those of a folder below it."""
        owner = opened.resolved.link.owner
        page = await self._metadata.children(owner, self._below(opened, path), owner, limit, cursor)
        return page.parsed()

    async def file(self, opened: OpenedLink, path: str | None) -> StoredFile:
        """The linked file (``path`` None), or the file at ``path`` below the linked folder."""
        owner = opened.resolved.link.owner
        if path is None:
            stored = opened.resolved.node
        else:
            stored = await self._metadata.readable(owner, self._below(opened, path), owner)
        file = stored.file()
        if file is None:
            what = "this link is to a folder" if path is None else f"{path!r} is a folder"
            raise NotFound(
                f"{what}: its page lists the files, each at /s/<token>/files/<path>", code=ErrorCode.NOT_A_FILE
            )
        return file

    async def download(self, opened: OpenedLink, file: StoredFile, conditions: Conditions) -> LinkDownloadAnswer:
        counted = False

        async def record(served: int, byte_range: ByteRange | None) -> None:
            nonlocal counted
            # metadata_ms takes the place atomically (410 when a concurrent download took the last).
            counted = counts_as_download(byte_range) and not opened.has_ticket
            download = LinkDownload(node_id=file.id, size=served, counted=counted, address=opened.address)
            await self._metadata.record_link_download(opened.link_id, download)

        answer = await self._files.serve(file, conditions, record)
        return LinkDownloadAnswer(answer, counted)
