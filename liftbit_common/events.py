"""The event contract of topic ``file-events``: the one definition producer and Spark job share."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

TOPIC = "file-events"
SCHEMA_VERSION: Literal[1] = 1

# The same fields as FileEvent, as the Spark SQL schema that ``from_json`` parses the message with.
SPARK_SCHEMA_DDL = (
    "schema_version INT, event_id STRING, type STRING, owner STRING, filename STRING, "
    "size BIGINT, actor STRING, occurred_at TIMESTAMP, file_id STRING, path STRING, link_id STRING, "
    "client_address STRING, uploader STRING, detail STRING"
)


class EventType(StrEnum):
    UPLOAD = "upload"
    DOWNLOAD = "download"
    DELETE = "delete"  # the account went, and the file with it
    MOVE = "move"  # moved or renamed: path is the new one
    TRASH = "trash"  # DELETE of a file or folder: it went to the trash
    RESTORE = "restore"
    PURGE = "purge"  # gone from the trash (purged, emptied or expired), bytes and all
    LINK_CREATED = "link_created"  # file_id/path: the linked file or folder
    LINK_REVOKED = "link_revoked"  # revoked by its owner (not: expired or used up)
    LINK_ALERT = "link_alert"  # the analytics job saw one link downloaded from many addresses in a window
    # Admin actions (the audit; GET /admin/audit lists them): owner = the user acted on,
    # actor = the admin, filename "" and size 0, detail says what changed.
    INVITE_CREATED = "invite_created"
    QUOTA_CHANGED = "quota_changed"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    USER_DELETED = "user_deleted"
    ROLE_CHANGED = "role_changed"
    PASSWORD_RESET_ISSUED = "password_reset_issued"


ADMIN_EVENT_TYPES = frozenset(
    {
        EventType.INVITE_CREATED,
        EventType.QUOTA_CHANGED,
        EventType.USER_DISABLED,
        EventType.USER_ENABLED,
        EventType.USER_DELETED,
        EventType.ROLE_CHANGED,
        EventType.PASSWORD_RESET_ISSUED,
    }
)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision, e.g. ``2026-11-24T12:05:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_ms() -> datetime:
    """Now, truncated to the millisecond the wire format carries."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class FileEvent(BaseModel):
    """One change to (or download of) a file or folder; the message key is the owner.
    ``file_id``, ``path``, ``link_id`` and ``client_address`` were added in the second stage
    (readers ignore unknown fields). A download through a share link has ``actor`` =
    ``link:<link_id>``."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: EventType
    owner: str
    filename: str
    size: int = Field(
        ge=0, description="Bytes: the file's size (a folder's: of all below it), or for a download the bytes served"
    )
    actor: str
    occurred_at: datetime = Field(default_factory=utc_now_ms)
    file_id: str | None = Field(None, description="The file's (or folder's) stable id")
    path: str | None = Field(None, description="Its path at the time; for a move, the new one")
    link_id: str | None = Field(None, description="The share link a download came through (else null)")
    client_address: str | None = Field(
        None, description="For a download through a link: the client's address (the leak alert counts them)"
    )
    uploader: str | None = Field(None, description="For an upload through a file request: the name its uploader gave")
    detail: str | None = Field(None, description="For an admin action: what changed, e.g. quota_bytes=1000")

    @field_serializer("occurred_at")
    def _serialize_occurred_at(self, value: datetime) -> str:
        return format_timestamp(value)

    @property
    def key(self) -> bytes:
        return self.owner.encode()

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, raw: bytes | str) -> FileEvent:
        return cls.model_validate_json(raw)
