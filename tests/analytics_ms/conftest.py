"""Real infrastructure for the analytics tests: the test stack's broker and PostgreSQL server,
and one SparkSession. Nothing here touches the stack's own data: each test creates its own topic,
and the tests' ``download_windows`` lives in a database of their own on the same server.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from pyspark.sql import SparkSession

from analytics_ms.app import MIGRATIONS, VERSION_TABLE
from analytics_ms.job import build_spark_session
from analytics_ms.settings import AnalyticsSettings
from liftbit_common.db import upgrade_database
from liftbit_common.settings import libpq_url
from scripts.stack.info import StackInfo

PARTITIONS = 3


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("analytics")


@pytest.fixture(scope="session")
def analytics_endpoints(stack: StackInfo) -> dict[str, str]:
    """The throw-away stack's broker and database server (the stack's own data is not touched)."""
    return {name: stack.env[name] for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}


@pytest.fixture(scope="session")
def analytics_database_url(analytics_endpoints: dict[str, str]) -> Iterator[str]:
    """A database of the tests' own on the platform's server, with analytics_ms's tables."""
    server_database = analytics_endpoints["DATABASE_URL"]
    name = f"analytics_tests_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_database, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = f"{libpq_url(server_database).rpartition('/')[0]}/{name}"
    upgrade_database(MIGRATIONS, url, VERSION_TABLE)
    yield url
    with psycopg.connect(server_database, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def download_windows_table(analytics_database_url: str) -> str:
    """The tests' database URL, with the job's tables emptied for this test."""
    with psycopg.connect(analytics_database_url) as connection:
        connection.execute("TRUNCATE download_windows, download_counts, link_alerts")
    return analytics_database_url


@pytest.fixture
def make_settings(
    analytics_endpoints: dict[str, str], analytics_database_url: str, tmp_path: Path
) -> Callable[..., AnalyticsSettings]:
    def make(**overrides: Any) -> AnalyticsSettings:
        fields: dict[str, Any] = {
            "database_url": analytics_database_url,
            "kafka_bootstrap_servers": analytics_endpoints["KAFKA_BOOTSTRAP_SERVERS"],
            "analytics_checkpoint_dir": tmp_path / "checkpoint",
            "analytics_trigger": "1 second",
            "internal_token": "test-internal-token",
        }
        return AnalyticsSettings(**{**fields, **overrides})

    return make


@pytest.fixture(scope="session")
def spark(analytics_endpoints: dict[str, str], work_dir: Path) -> Iterator[SparkSession]:
    settings = AnalyticsSettings(
        database_url=analytics_endpoints["DATABASE_URL"],
        kafka_bootstrap_servers=analytics_endpoints["KAFKA_BOOTSTRAP_SERVERS"],
        analytics_checkpoint_dir=work_dir / "unused-checkpoint",
        internal_token="test-internal-token",
    )
    session = build_spark_session(settings)
    yield session
    session.stop()


@pytest.fixture
def topic(analytics_endpoints: dict[str, str]) -> str:
    """A new, empty topic with three partitions."""
    name = f"analytics-test-{uuid.uuid4().hex[:12]}"
    admin = AdminClient({"bootstrap.servers": analytics_endpoints["KAFKA_BOOTSTRAP_SERVERS"]})
    for future in admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)]).values():
        future.result(10)
    return name


@pytest.fixture
def producer(analytics_endpoints: dict[str, str]) -> Iterator[Producer]:
    """Batching producer (messages go out in multi-record batches, as the platform's do)."""
    client = Producer(
        {
            "bootstrap.servers": analytics_endpoints["KAFKA_BOOTSTRAP_SERVERS"],
            "linger.ms": 20,
            "enable.idempotence": False,  # Tansu refuses the idempotent producer
        }
    )
    yield client
    assert client.flush(10) == 0
