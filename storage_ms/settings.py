from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from liftbit_common.rules import S3_MIN_PART_BYTES, MiB
from liftbit_common.settings import ServiceSettings


class StorageSettings(ServiceSettings):
    # storage_ms/.env (or the file STORAGE_ENV_FILE names) may hold S3 credentials, as in the
    # original project; real environment variables win over it.
    model_config = SettingsConfigDict(env_file="storage_ms/.env", extra="ignore")

    s3_endpoint_url: str | None = Field(None, description="Unset means AWS S3")
    s3_key_id: str | None = None
    s3_key_secret: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "liftbit"
    # Used when no S3_KEY_ID is configured (Docker Compose's bundled S3 server).
    s3_bundled_endpoint_url: str | None = None
    s3_bundled_key_id: str | None = None
    s3_bundled_key_secret: SecretStr | None = None

    part_size_bytes: int = Field(8 * MiB, ge=S3_MIN_PART_BYTES, description="Multipart part size")
    # Peak memory of one upload is about (upload_concurrency + 1) × part_size plus allocator slack:
    # 3 × 8 MiB keeps storage_ms within 64 MiB of its idle size (measured by bench/transfer.py).
    upload_concurrency: int = Field(3, ge=1, le=32, description="Parts in flight per upload")
    presign_ttl_seconds: int = Field(300, ge=1)
    s3_max_connections: int = Field(64, ge=1)
    # An S3 server that accepts connections but does not answer (SeaweedFS while it restarts) must
    # turn into a 503 well before a client gives up: at most attempts × read timeout, plus backoff.
    s3_connect_timeout_seconds: float = Field(2, gt=0)
    s3_read_timeout_seconds: float = Field(5, gt=0, description="Wait for S3's answer once a request is sent")
    s3_max_attempts: int = Field(2, ge=1, description="Tries per S3 call, retries with backoff included")

    @model_validator(mode="after")
    def _fall_back_to_bundled_s3(self) -> StorageSettings:
        if self.s3_key_id is None and self.s3_bundled_key_id is not None:
            self.s3_endpoint_url = self.s3_endpoint_url or self.s3_bundled_endpoint_url
            self.s3_key_id = self.s3_bundled_key_id
            self.s3_key_secret = self.s3_bundled_key_secret
        return self
