"""files_ms in the test's own process: its real routes and domain services, built by ``create_app``
around the in-memory fakes, called through Starlette's TestClient (an httpx.Client, so the helpers
of tests/support serve both tiers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from files_ms.app import build_services, create_app
from files_ms.settings import FilesSettings
from tests.support.fakes import FakeAnalytics, FakeMetadata, FakeStorage

MAX_FILE_SIZE_BYTES = 64 * 1024
QUOTA_BYTES = 256 * 1024

SETTINGS = FilesSettings(
    internal_token="in-process",
    max_file_size_bytes=MAX_FILE_SIZE_BYTES,
    token_cache_seconds=0,
    reconcile_interval_seconds=0,
    log_level="WARNING",  # an access-log line per request would cost more than the request
)


@dataclass(frozen=True)
class Fakes:
    metadata: FakeMetadata = field(default_factory=lambda: FakeMetadata(quota_bytes=QUOTA_BYTES))
    storage: FakeStorage = field(default_factory=FakeStorage)
    analytics: FakeAnalytics = field(default_factory=FakeAnalytics)


@contextmanager
def in_process_api(fakes: Fakes) -> Iterator[TestClient]:
    services = build_services(SETTINGS, metadata=fakes.metadata, storage=fakes.storage, analytics=fakes.analytics)
    with TestClient(create_app(SETTINGS, services=services)) as client:
        yield client
