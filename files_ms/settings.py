from __future__ import annotations

from pydantic import Field

from liftbit_common.rules import S3_MIN_PART_BYTES, MiB
from liftbit_common.settings import ServiceSettings


class FilesSettings(ServiceSettings):
    metadata_url: str = "http://127.0.0.1:3102"
    storage_url: str = "http://127.0.0.1:3103"
    analytics_url: str = "http://127.0.0.1:3104"

    # The base of the absolute URLs the API hands out (tus Location), e.g. https://files.example.com;
    # empty: they are relative (/uploads/…), never built from the request's Host header.
    liftbit_public_url: str = Field("", pattern=r"^(https?://[^/\s]+)?$")
    max_file_size_bytes: int = Field(50 * 1024 * MiB, ge=1, description="Largest file accepted (413 above)")
    # Token checks are cached this long; logout and account deletion clear this process's cache,
    # so this bounds how long another replica still accepts a revoked token. The price: one check
    # (~2 ms of CPU) a second per busy token and process.
    token_cache_seconds: float = Field(1.0, ge=0)

    # How long a share link's password, once given in its page's form, and a counted download's
    # ticket stand (cookies scoped to that link).
    link_cookie_seconds: int = Field(3600, ge=60)

    tus_part_size_bytes: int = Field(8 * MiB, ge=S3_MIN_PART_BYTES)
    tus_expiry_seconds: int = Field(24 * 3600, ge=60, description="Unfinished resumable uploads expire")

    reconcile_interval_seconds: float = Field(60.0, ge=0, description="0 disables the background sweeper")
    orphan_grace_seconds: int = Field(3600, ge=0, description="Unreferenced objects older than this are removed")
    # Trash entries older than this are purged (with their bytes) by the reconciler.
    trash_retention_days: float = Field(30, ge=0)
    multipart_grace_seconds: int = Field(24 * 3600, ge=0, description="Unknown multipart uploads older than this")
