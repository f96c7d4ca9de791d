from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, SecretStr

from liftbit_common.events import TOPIC
from liftbit_common.settings import ServiceSettings


class MetadataSettings(ServiceSettings):
    database_url: str
    # Above the requests files_ms sends at once under load (32 clients: 32 + the relay): past the
    # pool, every request opened and closed a connection of its own (6 % of metadata_ms's CPU).
    db_pool_size: int = Field(40, ge=1)
    # Below files_ms's 30 s timeout on its calls here: a commit never completes after its caller gave up.
    db_statement_timeout_seconds: float = Field(10.0, ge=0)
    kafka_bootstrap_servers: str
    kafka_topic: str = TOPIC
    kafka_partitions: int = Field(3, ge=1)
    token_ttl_seconds: int = Field(24 * 3600, ge=60)
    # Per-user storage quota for new accounts; 0 means unlimited.
    default_quota_bytes: int = Field(10 * 1024**3, ge=0)
    # Objects a replaced file pointed at stay this long, so running downloads finish whole.
    replaced_object_retention_seconds: int = Field(3600, ge=0)
    # Contents kept per file, the current one included; older ones are deleted on the next replace.
    file_versions_kept: int = Field(10, ge=1)
    max_path_depth: int = Field(64, ge=1, description="Levels of a path (a/b/c has 3)")
    max_path_bytes: int = Field(4096, ge=255, description="UTF-8 bytes of a whole path")
    outbox_batch_size: int = Field(500, ge=1)
    # The broker (Tansu on S3) stores each produce request's batch as its own object, and readers pay
    # a fetch per batch (a few hundred per second here, about a hundred under load): gathering the
    # commits of a moment into one batch makes readers pay per batch, not per event.
    outbox_linger_seconds: float = Field(0.2, ge=0, le=5)
    # Logins and registrations (metadata_ms/service/throttle.py; README "Security" has the why).
    # One core is always left to transfers: with every core hashing, a registration flood took a
    # victim's download p50 from 63 to 657 ms; with one of two, to 112 ms (bench/RESULTS-flood.md).
    password_hash_concurrency: int = Field(
        max(1, (os.cpu_count() or 1) - 1), ge=1, description="argon2 hashes at once (default: cores - 1)"
    )
    password_hash_nice: int = Field(10, ge=0, le=19, description="CPU priority of the hashing threads (nice)")
    password_hash_queue: int = Field(4, ge=0, description="argon2 hashes waiting; beyond: 503 Retry-After")
    max_live_tokens_per_user: int = Field(50, ge=1, description="a new login revokes the oldest beyond this")
    login_free_pair_failures: int = Field(5, ge=1)
    login_max_backoff_seconds: int = Field(15 * 60, ge=1)
    login_user_failures_per_hour: int = Field(100, ge=1)
    login_address_failures: int = Field(50, ge=1)
    login_address_window_seconds: int = Field(15 * 60, ge=1)
    login_address_logins_per_minute: int = Field(60, ge=1)
    address_registrations_per_hour: int = Field(20, ge=1)
    throttle_exempt_addresses: frozenset[str] = frozenset()
    # Each unfinished resumable upload holds an S3 multipart upload and reserves its length.
    max_unfinished_uploads_per_user: int = Field(20, ge=1, description="429 beyond")
    # Team administration (README "Running it for a team").
    registration: Literal["open", "invite", "closed"] = Field(
        "open", description="open: anyone registers; invite: an admin's invitation is needed; closed: nobody"
    )
    liftbit_admin_user: str = Field("admin", description="The first admin, made at start if missing")
    # The launcher generates it once into $LIFTBIT_HOME/secrets.env; without it no admin is made.
    liftbit_admin_password: SecretStr | None = None
    invite_seconds: int = Field(7 * 24 * 3600, ge=60, description="How long an invitation stands by default")
    password_reset_seconds: int = Field(24 * 3600, ge=60, description="How long a reset token stands")
