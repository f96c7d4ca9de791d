"""The FastAPI services (metadata_ms, storage_ms, files_ms) and analytics_ms with its Spark driver:
uvicorn on loopback, wired to the stack's endpoints and secrets."""

from __future__ import annotations

from collections.abc import Callable

from scripts.stack.config import VENV_BIN, StackConfig
from scripts.stack.process import Part, http_status


def uvicorn(module: str, port_name: str) -> Callable[[StackConfig], list[str]]:
    def command(config: StackConfig) -> list[str]:
        return [
            str(VENV_BIN / "python"),
            *("-m", "uvicorn", f"{module}.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(config.ports[port_name])),
            *("--no-access-log", "--timeout-keep-alive", "30", "--proxy-headers"),
        ]

    return command


def serving(port_name: str) -> Callable[[StackConfig], bool]:
    """The service answers /health (200, or 503 while a dependency is still coming up)."""
    return lambda config: http_status(f"{config.service_url(port_name)}/health") in (200, 503)


def service_env(config: StackConfig) -> dict[str, str]:
    return config.settings | {
        "INTERNAL_TOKEN": config.secrets["INTERNAL_TOKEN"],
        "DATABASE_URL": config.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": config.kafka,
        "METADATA_URL": config.service_url("METADATA_PORT"),
        "STORAGE_URL": config.service_url("STORAGE_PORT"),
        "ANALYTICS_URL": config.service_url("ANALYTICS_PORT"),
        "S3_ENDPOINT_URL": config.s3_url,
        "S3_KEY_ID": config.secrets["S3_KEY_ID"],
        "S3_KEY_SECRET": config.secrets["S3_KEY_SECRET"],
        "S3_BUCKET": "liftbit",
    }


def metadata_env(config: StackConfig) -> dict[str, str]:
    """metadata_ms alone gets the first admin's password: it creates that account if missing."""
    return service_env(config) | {"LIFTBIT_ADMIN_PASSWORD": config.secrets["LIFTBIT_ADMIN_PASSWORD"]}


def analytics_env(config: StackConfig) -> dict[str, str]:
    spark_tmp = config.home / "analytics" / "tmp"
    spark_tmp.mkdir(parents=True, exist_ok=True)
    return service_env(config) | {
        "ANALYTICS_CHECKPOINT_DIR": str(config.home / "analytics" / "checkpoint"),
        "PYSPARK_PYTHON": str(VENV_BIN / "python"),
        "PYSPARK_DRIVER_PYTHON": str(VENV_BIN / "python"),
        # Without it Spark picks the machine's external interface; nothing here leaves loopback.
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(spark_tmp),
    }


def service_part(
    name: str,
    port_name: str,
    env: Callable[[StackConfig], dict[str, str]] = service_env,
    start_timeout: float = 60.0,
    needs: tuple[str, ...] = (),
) -> Part:
    def replicated_env(config: StackConfig) -> dict[str, str]:
        return env(config) | {"WEB_CONCURRENCY": str(config.replicas(name))}

    return Part(
        name,
        command=uvicorn(name, port_name),
        env=replicated_env,
        ready=serving(port_name),
        start_timeout=start_timeout,
        needs=needs,
    )


# What each migrates or connects to as it starts; files_ms calls the others only per request.
METADATA = service_part("metadata_ms", "METADATA_PORT", env=metadata_env, needs=("postgres", "broker"))
STORAGE = service_part("storage_ms", "STORAGE_PORT", needs=("s3",))
ANALYTICS = service_part(
    "analytics_ms", "ANALYTICS_PORT", env=analytics_env, start_timeout=120, needs=("postgres", "broker")
)
FILES = service_part("files_ms", "FILES_PORT")
