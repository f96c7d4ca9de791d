from __future__ import annotations

from pydantic import Field

from liftbit_common.settings import ServiceSettings

MiB = 1024 * 1024


class FilesSettings(ServiceSettings):
    metadata_url: str = "http://127.0.0.1:3102"
    storage_url: str = "http://127.0.0.1:3103"
    analytics_url: str = "http://127.0.0.1:3104"

    max_file_size_bytes: int = Field(50 * 1024 * MiB, ge=1, description="Largest file accepted (413 above)")
    # Token checks are cached this long; logout and account deletion clear this process's cache.
    token_cache_seconds: float = Field(5.0, ge=0)
    # Failed logins allowed per window, e.g. "10/minute" (429 beyond).
    login_rate_per_user: str = "10/minute"
    login_rate_per_address: str = "30/minute"

    tus_part_size_bytes: int = Field(8 * MiB, ge=5 * MiB)
    tus_expiry_seconds: int = Field(24 * 3600, ge=60, description="Unfinished resumable uploads expire")

    reconcile_interval_seconds: float = Field(60.0, ge=0, description="0 disables the background sweeper")
    orphan_grace_seconds: int = Field(3600, ge=0, description="Unreferenced objects older than this are removed")
    # Trash entries older than this are purged (with their bytes) by the reconciler.
    trash_retention_days: float = Field(30, ge=0)
    multipart_grace_seconds: int = Field(24 * 3600, ge=0, description="Unknown multipart uploads older than this")
