"""analytics_ms settings, from environment variables named as the fields (upper-case)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import pyspark
from pydantic import AfterValidator, Field

from analytics_ms.transforms import DEFAULT_WATERMARK, DEFAULT_WINDOW
from liftbit_common.events import TOPIC
from liftbit_common.settings import ServiceSettings

_INTERVAL = re.compile(r"^\d+ (millisecond|second|minute|hour|day)s?$")


def _spark_interval(value: str) -> str:
    """Spark reads these strings only when the query starts, ~20 s later: refuse bad ones now."""
    if not _INTERVAL.match(value):
        raise ValueError(f"{value!r} is not an interval like '5 minutes' or '30 seconds'")
    return value


SparkInterval = Annotated[str, AfterValidator(_spark_interval)]


class AnalyticsSettings(ServiceSettings):
    database_url: str
    kafka_bootstrap_servers: str
    kafka_topic: str = TOPIC
    spark_master_url: str = "local[2]"
    # The driver JVM's heap (with local[2], the whole job's): it fills to this before collecting,
    # so the service's memory levels off there, plus the Python workers.
    spark_driver_memory: str = Field("1g", pattern=r"^\d+[kmgKMG]$")
    # On a cluster (SPARK_MASTER_URL=spark://…): the address the executors reach the driver at
    # (loopback for a cluster on this machine), each executor's heap, and the cores the job takes
    # from the cluster in all (spread over the workers).
    spark_driver_host: str = "127.0.0.1"
    spark_executor_memory: str = Field("512m", pattern=r"^\d+[kmgKMG]$")
    spark_cores_max: int = Field(2, ge=1)
    # python: the Python data source over confluent-kafka; kafka: Spark's built-in connector
    # (needs its jar, fetched from Maven as analytics_kafka_package).
    analytics_source: Literal["python", "kafka"] = "python"
    analytics_kafka_package: str = f"org.apache.spark:spark-sql-kafka-0-10_2.13:{pyspark.__version__}"
    analytics_starting_offsets: Literal["earliest", "latest"] = "earliest"
    analytics_window: SparkInterval = DEFAULT_WINDOW
    analytics_watermark: SparkInterval = DEFAULT_WATERMARK
    analytics_trigger: SparkInterval = "5 seconds"
    analytics_checkpoint_dir: Path
    # Partitions of the deduplication and window state: one per core of local[2] (more only add
    # per-batch overhead: measured p50 delay 2.3 s with 2, 4.0 s with 4). Raise it for a cluster
    # before the first run; the checkpoint fixes it from then on.
    analytics_shuffle_partitions: int = Field(2, ge=1)
    # The leak alert: a link downloaded from more distinct client addresses than this within one
    # window is flagged in its stats and announced by a link_alert event.
    link_alert_addresses: int = Field(5, ge=1)
