"""Tables of the metadata service. The migrations in migrations/versions create exactly these."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(sa.Text, unique=True)
    password_hash: Mapped[str] = mapped_column(sa.Text)
    quota_bytes: Mapped[int] = mapped_column(sa.BigInteger)  # 0 = unlimited
    used_bytes: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    role: Mapped[str] = mapped_column(sa.Text, server_default="user")  # 'admin' or 'user'
    # A disabled user's tokens resolve to 401 and their links to 410; their files stay.
    disabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'user')", name="ck_users_role"),)


class Token(Base):
    """A login session (kind 'session') or a named API token (kind 'api', optional expiry)."""

    __tablename__ = "tokens"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('session', 'api')", name="ck_tokens_kind"),
        sa.CheckConstraint("scope IN ('read', 'full')", name="ck_tokens_scope"),
    )

    token_hash: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # sha256 hex of the bearer token
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, server_default=sa.text("gen_random_uuid()"))
    kind: Mapped[str] = mapped_column(sa.Text, server_default="session")
    scope: Mapped[str] = mapped_column(sa.Text, server_default="full")
    name: Mapped[str | None] = mapped_column(sa.Text)
    client: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    # Coarse: written at most once a minute per token (service/accounts.py), never per request.
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Invite(Base):
    """A single-use invitation; only the token's SHA-256 is kept (it is 256 random bits)."""

    __tablename__ = "invites"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    created_by: Mapped[str] = mapped_column(sa.Text)
    username: Mapped[str | None] = mapped_column(sa.Text)  # only this name may use it
    quota_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    used_by: Mapped[str | None] = mapped_column(sa.Text)


class PasswordResetToken(Base):
    """A single-use password reset an admin issued; only the token's SHA-256 is kept."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class AuditRecord(Base):
    """An admin action, written with its event in the same transaction (GET /admin/audit)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True)
    actor: Mapped[str] = mapped_column(sa.Text)
    action: Mapped[str] = mapped_column(sa.Text)
    target: Mapped[str] = mapped_column(sa.Text)
    detail: Mapped[str | None] = mapped_column(sa.Text)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Node(Base):
    """A file or a folder. Children point at their parent by id; ``path`` is materialised (one
    UPDATE rewrites a moved folder's subtree: measured in bench/tree.py) so that a path lookup, a
    prefix listing and the uniqueness of a path are each one index. A trashed node keeps its path
    (its original path) and its parent; ``trashed_in`` names the trash entry it went with."""

    __tablename__ = "nodes"
    __table_args__ = (
        # Among live nodes a path is one thing: never a file and a folder, never two files.
        sa.Index(
            "uq_nodes_live_path",
            "owner_id",
            "path",
            unique=True,
            postgresql_where=sa.text("trashed_in IS NULL"),
        ),
        sa.Index(
            "ix_nodes_live_top_level",
            "owner_id",
            "path",
            postgresql_where=sa.text("parent_id IS NULL AND trashed_in IS NULL"),
        ),
        sa.Index("ix_nodes_parent", "parent_id", "path"),
        sa.Index("ix_nodes_trashed_in", "trashed_in", postgresql_where=sa.text("trashed_in IS NOT NULL")),
        sa.Index("ix_nodes_object_key", "object_key"),
        sa.Index(
            "ix_nodes_search_name_trgm",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
        sa.CheckConstraint("type IN ('file', 'folder')", name="ck_nodes_type"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(sa.Text)
    # Byte order ("C"), whatever the database's locale: listings and cursors depend on it.
    name: Mapped[str] = mapped_column(sa.Text(collation="C"))
    path: Mapped[str] = mapped_column(sa.Text(collation="C"))
    # str.casefold() of the name, for case-insensitive search whatever the database's locale.
    search_name: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    trashed_in: Mapped[int | None] = mapped_column(sa.BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The current content of a file (null for folders); earlier contents are Version rows.
    version: Mapped[int | None] = mapped_column(sa.Integer)
    object_key: Mapped[str | None] = mapped_column(sa.Text)
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    content_type: Mapped[str | None] = mapped_column(sa.Text)
    sha256: Mapped[str | None] = mapped_column(sa.Text)


class Version(Base):
    """An earlier content of a file. A restored version's object is shared with the file's new
    current content: an object is deleted only once no node and no version refers to it."""

    __tablename__ = "versions"
    __table_args__ = (sa.UniqueConstraint("node_id", "number"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(sa.Integer)
    object_key: Mapped[str] = mapped_column(sa.Text, index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Grant(Base):
    """A grantee may read the node and, for a folder, everything below it."""

    __tablename__ = "grants"

    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True)
    grantee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class Upload(Base):
    """A resumable (tus) upload in progress: an S3 multipart upload plus the unaligned tail."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.Text)
    length: Mapped[int] = mapped_column(sa.BigInteger)
    offset: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    part_size: Mapped[int] = mapped_column(sa.BigInteger)
    object_key: Mapped[str] = mapped_column(sa.Text, unique=True)
    s3_upload_id: Mapped[str] = mapped_column(sa.Text)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")  # [{number, etag}]
    tail_key: Mapped[str | None] = mapped_column(sa.Text)
    metadata_header: Mapped[str] = mapped_column(sa.Text, server_default="")
    # Through a file-request link: which one, and the name its uploader gave (if any).
    link_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    uploader_name: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    # The request writing it now (any files_ms copy), until its lease lapses unless renewed.
    writer: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    writer_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ObjectDeletion(Base):
    """An object (or unfinished multipart upload) to remove from S3 once delete_after has passed."""

    __tablename__ = "object_deletions"

    object_key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    s3_upload_id: Mapped[str | None] = mapped_column(sa.Text)
    delete_after: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports; the relay publishes it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class ThrottleCounter(Base):
    """A fixed-window counter (failed logins per pair, user or address; registrations per address),
    kept here rather than in a process so that every files_ms and metadata_ms replica sees it."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # e.g. "pair:alice 203.0.113.7"
    count: Mapped[int] = mapped_column(sa.Integer)
    window_start: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class KnownAddress(Base):
    """An address the user has logged in from successfully: logins from it pass the per-user and
    per-address ceilings, so a stranger's failures cannot lock the owner out."""

    __tablename__ = "known_addresses"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    last_login_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Link(Base):
    """A share link. Only the token's SHA-256 is kept (the token is 256 random bits, so a hash
    dump gives nothing to guess from), and the password's argon2 hash. ``node_id`` is nulled when
    the node is purged, so the link answers 410 rather than vanishing into a 404."""

    __tablename__ = "links"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[int | None] = mapped_column(sa.ForeignKey("nodes.id", ondelete="SET NULL"), index=True)
    password_hash: Mapped[str | None] = mapped_column(sa.Text)
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    max_downloads: Mapped[int | None] = mapped_column(sa.Integer)
    downloads: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    upload_only: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
