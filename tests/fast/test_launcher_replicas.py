"""FILES_REPLICAS / STORAGE_REPLICAS / METADATA_REPLICAS: how many worker processes each service runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.stack.config import PORT_OFFSETS, SECRET_NAMES, LauncherError, StackConfig
from scripts.stack.parts.services import FILES, METADATA, STORAGE


def config(settings: dict[str, str]) -> StackConfig:
    ports = {"PORT": 3000} | {name: 3000 + offset for name, offset in PORT_OFFSETS.items()}
    secrets = dict.fromkeys(SECRET_NAMES, "secret")
    return StackConfig(home=Path("/nonexistent"), ports=ports, secrets=secrets, settings=settings)


def test_each_service_gets_its_own_replica_count_as_uvicorns_workers() -> None:
    stack = config({"FILES_REPLICAS": "3", "METADATA_REPLICAS": "2"})
    assert [stack.replicas(name) for name in ("files_ms", "metadata_ms", "storage_ms", "analytics_ms")] == [3, 2, 1, 1]
    # uvicorn reads --workers from WEB_CONCURRENCY
    workers = {part.name: part.env(stack)["WEB_CONCURRENCY"] for part in (FILES, METADATA, STORAGE)}
    assert workers == {"files_ms": "3", "metadata_ms": "2", "storage_ms": "1"}


@pytest.mark.parametrize("value", ["0", "9", "two", "-1", ""])
def test_a_replica_count_outside_1_to_8_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(LauncherError, match=f"STORAGE_REPLICAS={value!r}: expected a whole number from 1 to 8"):
        config({"STORAGE_REPLICAS": value})
