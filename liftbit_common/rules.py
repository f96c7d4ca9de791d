"""Rules two services must apply alike, so they live here once."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from pydantic import Field

# Object keys are opaque names files_ms chooses and storage_ms accepts; never derived from a filename.
OBJECT_KEY_PATTERN = r"^[0-9a-f]{32}$"
ObjectKey = Annotated[str, Field(pattern=OBJECT_KEY_PATTERN)]

MiB = 1024 * 1024
# S3's multipart limits: files_ms sizes resumable uploads' parts by them, storage_ms cuts bodies into them.
S3_MIN_PART_BYTES = 5 * MiB
S3_MAX_PARTS = 10_000

# What the tus checksum extension accepts: files_ms announces them, storage_ms checks the bytes.
CHECKSUM_ALGORITHMS = ("sha256", "sha1", "md5")


def new_object_key() -> str:
    return uuid.uuid4().hex


def token_digest(token: str) -> str:
    """Tokens are stored only as their SHA-256, so a database leak reveals no usable token;
    files_ms sends metadata_ms the digest, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()
