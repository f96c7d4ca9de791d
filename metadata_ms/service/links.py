"""Share links: creating, listing and revoking them; resolving a recipient's token (state,
password, throttle); and counting the downloads that take one of ``max_downloads``.

What a link's state means is decided here: revoked, expired or pointing at a node that is in the
trash or gone → 410; unknown → 404. Which requests count as a download is files_ms's call
(files_ms.service.links); here the count is one conditional UPDATE, so that 20 parallel downloads
of a link with ``max_downloads: 3`` find exactly 3 places."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liftbit_common.contracts import (
    LinkAccess,
    LinkDownload,
    LinkRequest,
    NodeInfo,
    ResolvedLink,
    StoredLink,
)
from liftbit_common.errors import ErrorCode, Gone, InvalidInput, Unauthorized, link_not_found, link_used_up
from liftbit_common.events import EventType, FileEvent
from metadata_ms.models import Link, Node, User
from metadata_ms.outbox import add_events
from metadata_ms.service.accounts import find_user
from metadata_ms.service.nodes import FOLDER, folder_stats, live, node_not_found, parse_id, stored
from metadata_ms.service.passwords import PasswordVault
from metadata_ms.service.throttle import Throttle


def _stored(link: Link, owner: str) -> StoredLink:
    return StoredLink(
        id=str(link.id),
        node_id=None if link.node_id is None else str(link.node_id),
        owner=owner,
        expires_at=link.expires_at,
        max_downloads=link.max_downloads,
        downloads=link.downloads,
        has_password=link.password_hash is not None,
        upload_only=link.upload_only,
        created_at=link.created_at,
        revoked_at=link.revoked_at,
    )


def _parse_link_id(link_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(link_id)
    except ValueError:
        raise link_not_found() from None


def gone_reason(link: StoredLink, node_live: bool, now: datetime) -> Gone | None:
    """Why a link no longer works, if it does not (used up is files_ms's to judge: see there)."""
    if link.revoked_at is not None:
        return Gone("this link was revoked by its owner", code=ErrorCode.LINK_REVOKED)
    if link.expires_at is not None and link.expires_at <= now:
        return Gone(f"this link expired at {link.expires_at.isoformat()}", code=ErrorCode.LINK_EXPIRED)
    if not node_live:
        return Gone("the shared file or folder was deleted", code=ErrorCode.LINK_TARGET_GONE)
    return None


def _link_event(kind: EventType, info: NodeInfo, link_id: str, actor: str, *, size: int = 0) -> FileEvent:
    return FileEvent(
        type=kind,
        owner=info.owner,
        filename=info.path.rsplit("/", 1)[-1],
        size=size,
        actor=actor,
        file_id=info.id,
        path=info.path,
        link_id=link_id,
    )


class LinkRegistry:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vault: PasswordVault, throttle: Throttle) -> None:
        self._sessions = sessions
        self._vault = vault
        self._throttle = throttle

    async def _owned_node(self, session: AsyncSession, node_id: str, owner_id: int) -> Node:
        node = await session.scalar(
            sa.select(Node).where(Node.id == parse_id(node_id), Node.owner_id == owner_id, live())
        )
        if node is None:
            raise node_not_found(node_id)
        return node

    async def create(self, node_id: str, request: LinkRequest) -> StoredLink:
        now = datetime.now(UTC)
        if request.expires_at is not None and request.expires_at <= now:
            raise InvalidInput("expires_at: must be in the future")
        password_hash = None if request.password is None else await self._vault.hash(request.password)
        async with self._sessions.begin() as session:
            user = await find_user(session, request.owner, key_share=True)
            node = await self._owned_node(session, node_id, user.id)
            if request.upload_only and node.type != FOLDER:
                raise InvalidInput("upload_only: a file request needs a folder to upload into")
            link = Link(
                id=uuid.uuid4(),
                token_hash=request.token_hash,
                owner_id=user.id,
                node_id=node.id,
                password_hash=password_hash,
                expires_at=request.expires_at,
                max_downloads=request.max_downloads,
                upload_only=request.upload_only,
                created_at=now,
                downloads=0,
            )
            session.add(link)
            await session.flush()
            info = stored(node, user.username).node
            await add_events(session, [_link_event(EventType.LINK_CREATED, info, str(link.id), user.username)])
            return _stored(link, user.username)

    async def links(self, node_id: str, owner: str, *, include_revoked: bool = False) -> list[StoredLink]:
        """The node's links, newest first: expired and used-up ones too, revoked ones if asked."""
        async with self._sessions() as session:
            user = await find_user(session, owner)
            node = await self._owned_node(session, node_id, user.id)
            rows = await session.scalars(
                sa.select(Link)
                .where(Link.node_id == node.id, sa.true() if include_revoked else Link.revoked_at.is_(None))
                .order_by(Link.created_at.desc(), Link.id)
            )
            return [_stored(link, owner) for link in rows]

    async def revoke(self, link_id: str, owner: str) -> None:
        async with self._sessions.begin() as session:
            user = await find_user(session, owner)
            link = await session.scalar(
                sa.select(Link)
                .where(Link.id == _parse_link_id(link_id), Link.owner_id == user.id, Link.revoked_at.is_(None))
                .with_for_update()
            )
            if link is None:
                raise link_not_found()
            link.revoked_at = datetime.now(UTC)
            node = None if link.node_id is None else await session.get(Node, link.node_id)
            if node is not None:
                info = stored(node, owner).node
                await add_events(session, [_link_event(EventType.LINK_REVOKED, info, link_id, owner)])

    async def resolve(self, token_hash: str, access: LinkAccess) -> ResolvedLink:
        item_count, total_size = folder_stats()
        async with self._sessions() as session:
            row = (
                await session.execute(
                    sa.select(Link, User.username, Node, item_count, total_size, User.disabled_at)
                    .join(User, User.id == Link.owner_id)
                    .outerjoin(Node, Node.id == Link.node_id)
                    .where(Link.token_hash == token_hash)
                )
            ).first()
        if row is None:
            raise link_not_found()
        link_row, owner, node, items, size, owner_disabled_at = row
        if owner_disabled_at is not None:
            raise Gone("the owner's account is disabled", code=ErrorCode.LINK_OWNER_DISABLED)
        link = _stored(link_row, owner)
        gone = gone_reason(link, node is not None and node.trashed_in is None, datetime.now(UTC))
        if gone is not None:
            raise gone
        password_checked = False
        if link_row.password_hash is not None and access.password is not None:
            await self._throttle.admit_link_password(link.id, access.address)
            if not await self._vault.verify(link_row.password_hash, access.password):
                await self._throttle.record_link_failure(link.id, access.address)
                raise Unauthorized(
                    "wrong password for this link",
                    code=ErrorCode.WRONG_LINK_PASSWORD,
                    headers={"WWW-Authenticate": 'X-Link-Password realm="share link"'},
                )
            password_checked = True
        return ResolvedLink(link=link, node=stored(node, owner, items, size), password_checked=password_checked)

    async def record_download(self, link_id: str, download: LinkDownload) -> StoredLink:
        """Publish the download event; a counted one first takes a place (410 when none is left)."""
        async with self._sessions.begin() as session:
            link_uuid = _parse_link_id(link_id)
            if download.counted:
                counted = await session.scalar(
                    sa.update(Link)
                    .where(
                        Link.id == link_uuid,
                        sa.or_(Link.max_downloads.is_(None), Link.downloads < Link.max_downloads),
                    )
                    .values(downloads=Link.downloads + 1)
                    .returning(Link.id)
                )
                if counted is None:
                    raise link_used_up()
            row = (
                await session.execute(
                    sa.select(Link, User.username).join(User, User.id == Link.owner_id).where(Link.id == link_uuid)
                )
            ).first()
            if row is None:
                raise link_not_found()
            link, owner = row
            node = await session.get(Node, parse_id(download.node_id))
            if node is not None:  # purged since the download was authorised: nothing to attribute it to
                event = _link_event(
                    EventType.DOWNLOAD, stored(node, owner).node, link_id, f"link:{link_id}", size=download.size
                )
                await add_events(session, [event.model_copy(update={"client_address": download.address})])
            return _stored(link, owner)
