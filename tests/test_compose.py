"""docker-compose.yml against the code, so the Docker way of running cannot drift from the local one.

There is no Docker engine here: `docker-compose config` (Debian's docker-compose 1.29) validates and
resolves the file, and these tests compare what it resolved with the local launcher
(scripts.stack: commands, extra environment, nginx template), with the services' settings classes
and with the Dockerfiles.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import uvicorn.config

from analytics_ms.settings import AnalyticsSettings
from files_ms.settings import FilesSettings
from liftbit_common.events import TOPIC
from liftbit_common.settings import ServiceSettings
from metadata_ms.settings import MetadataSettings
from scripts.stack.config import PORT_OFFSETS, REPLICA_SETTINGS, SECRET_NAMES, PasswordLimits, StackConfig
from scripts.stack.parts import PARTS
from scripts.stack.parts.nginx import TEMPLATES, render_template
from scripts.stack.parts.services import analytics_env, service_env
from storage_ms.settings import StorageSettings

# PyYAML comes with uvicorn[standard] but without type stubs (types-PyYAML is not in the lock).
yaml: Any = importlib.import_module("yaml")

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKER_COMPOSE = shutil.which("docker-compose")

pytestmark = pytest.mark.skipif(DOCKER_COMPOSE is None, reason="docker-compose is not installed")

SETTINGS: dict[str, type[ServiceSettings]] = {
    "files_ms": FilesSettings,
    "storage_ms": StorageSettings,
    "metadata_ms": MetadataSettings,
    "analytics_ms": AnalyticsSettings,
}
PYTHON_SERVICES = tuple(SETTINGS)
# The launcher's port setting of each service (its Part's command reads it).
LAUNCHER_PORT_NAMES = {
    "files_ms": "FILES_PORT",
    "storage_ms": "STORAGE_PORT",
    "metadata_ms": "METADATA_PORT",
    "analytics_ms": "ANALYTICS_PORT",
}
# Variables given to a service that are not fields of its settings; each is checked to be read.
RUNTIME_VARIABLES = {
    # uvicorn's: --proxy-headers (whom to trust) and --workers (WEB_CONCURRENCY, from *_REPLICAS)
    "files_ms": {"FORWARDED_ALLOW_IPS", "WEB_CONCURRENCY"},
    "storage_ms": {"STORAGE_ENV_FILE", "WEB_CONCURRENCY"},  # storage_ms/app.py: where storage_ms/.env is
    "metadata_ms": {"WEB_CONCURRENCY"},
    "analytics_ms": {"PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_LOCAL_IP", "SPARK_LOCAL_DIRS"},  # Spark
}
# Ports the infrastructure containers listen on, as the services' URLs name them.
INFRASTRUCTURE_PORTS = {"postgres": 5432, "kafka": 9092, "s3": 8333}


# --------------------------------------------------------------------------- helpers


def run_compose_config(variables: dict[str, str] | None = None) -> dict[str, Any]:
    """The file as docker-compose resolves it, with the given variables and nothing from a .env file."""
    assert DOCKER_COMPOSE is not None
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")} | (variables or {})
    with tempfile.TemporaryDirectory() as folder:
        no_env_file = Path(folder) / "empty.env"  # docker-compose 1.29 wants a regular file here
        no_env_file.touch()
        base = [DOCKER_COMPOSE, "--env-file", str(no_env_file), "-f", str(COMPOSE_FILE)]
        check = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, env=environment, check=False)
        assert check.returncode == 0, check.stderr
        result = subprocess.run([*base, "config"], capture_output=True, text=True, env=environment, check=False)
        assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def environment_of(config: dict[str, Any], service: str) -> dict[str, str | None]:
    """A service's variables; None for the ones passed on from the shell only when set there.
    `config` writes a literal $ as $$ (so that its output can be read again): undo that."""
    raw: dict[str, Any] = config["services"][service].get("environment", {})
    return {name: None if value is None else str(value).replace("$$", "$") for name, value in raw.items()}


def set_environment(config: dict[str, Any], service: str) -> dict[str, str]:
    return {name: value for name, value in environment_of(config, service).items() if value is not None}


def field_variables(settings_class: type[ServiceSettings]) -> set[str]:
    return {name.upper() for name in settings_class.model_fields}


def option_value(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


def dockerfile_cmd(service: str) -> list[str]:
    text = (ROOT / service / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", "", text)  # Dockerfile line continuations
    commands = [line for line in joined.splitlines() if line.startswith("CMD ")]
    assert len(commands) == 1, f"{service}/Dockerfile has {len(commands)} CMD lines"
    command: list[str] = json.loads(commands[0].removeprefix("CMD "))
    return command


def dockerfile_stage(service: str, stage: str) -> str:
    """The instructions of one build stage, comments left out."""
    text = re.sub(r"\\\n", "", (ROOT / service / "Dockerfile").read_text())
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    start = next(i for i, line in enumerate(lines) if line.startswith("FROM ") and line.endswith(f" AS {stage}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM ")), len(lines))
    return "\n".join(lines[start:end])


def volume_mounts(config: dict[str, Any], service: str) -> list[tuple[str, str, str]]:
    """(source, target, mode) of each volume; `config` writes them as source:target:mode."""
    mounts = []
    for entry in config["services"][service].get("volumes", []):
        source, target, *rest = str(entry).split(":")
        mounts.append((source, target, rest[0] if rest else "rw"))
    return mounts


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return run_compose_config()


@pytest.fixture
def launcher_stack(tmp_path: Path) -> StackConfig:
    ports = {"PORT": 3000} | {name: 3100 + offset for name, offset in PORT_OFFSETS.items()}
    secrets = {name: f"test-{name.lower()}" for name in SECRET_NAMES}
    return StackConfig(home=tmp_path, ports=ports, secrets=secrets)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No settings from the test run's own environment leak into a settings class under test."""
    names = set().union(*(field_variables(cls) for cls in SETTINGS.values()), *RUNTIME_VARIABLES.values())
    for name in os.environ:
        if name.upper() in names:
            monkeypatch.delenv(name)
    return monkeypatch


# --------------------------------------------------------------------------- the tests


def test_only_nginx_publishes_a_port(compose: dict[str, Any]) -> None:
    services: dict[str, Any] = compose["services"]
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"nginx"}
    assert not any(service.get("network_mode") == "host" for service in services.values())
    [port] = services["nginx"]["ports"]
    assert (int(port["published"]), int(port["target"])) == (3000, 80)


def test_the_public_port_comes_from_PORT() -> None:
    [port] = run_compose_config({"PORT": "3456"})["services"]["nginx"]["ports"]
    assert int(port["published"]) == 3456


@pytest.mark.parametrize("service", PYTHON_SERVICES)
def test_each_service_runs_the_launchers_entry_point(
    compose: dict[str, Any], launcher_stack: StackConfig, service: str
) -> None:
    launched: list[str] = next(p for p in PARTS if p.name == service).command(launcher_stack)
    command: list[str] = [str(part) for part in compose["services"][service]["command"]]
    assert f"{service}.app:create_app" in command
    assert option_value(launched, "--port") == str(launcher_stack.ports[LAUNCHER_PORT_NAMES[service]])
    # The same line, but with the image's python and the container's address and port.
    expected = ["python", *launched[1:]]
    expected[expected.index("--host") + 1] = "0.0.0.0"
    expected[expected.index("--port") + 1] = "8000"
    assert command == expected
    assert dockerfile_cmd(service) == command


@pytest.mark.parametrize("service", PYTHON_SERVICES)
def test_environment_names_are_settings_fields(compose: dict[str, Any], service: str) -> None:
    given = set(environment_of(compose, service))
    unknown = given - field_variables(SETTINGS[service]) - RUNTIME_VARIABLES[service]
    assert not unknown, f"{service} gets variables its settings do not read: {sorted(unknown)}"


def test_the_variables_beyond_settings_are_read_by_someone(launcher_stack: StackConfig) -> None:
    assert "STORAGE_ENV_FILE" in (ROOT / "storage_ms" / "app.py").read_text()
    assert "FORWARDED_ALLOW_IPS" in inspect.getsource(uvicorn.config)
    launcher_extras = set(analytics_env(launcher_stack)) - set(service_env(launcher_stack))
    spark_variables = launcher_extras - field_variables(AnalyticsSettings)
    assert RUNTIME_VARIABLES["analytics_ms"] == spark_variables


@pytest.mark.parametrize("service", PYTHON_SERVICES)
def test_settings_load_from_the_compose_environment(
    compose: dict[str, Any], clean_environment: pytest.MonkeyPatch, tmp_path: Path, service: str
) -> None:
    settings_class = SETTINGS[service]
    environment = set_environment(compose, service)
    for name, value in environment.items():
        clean_environment.setenv(name, value)
    # Required fields missing or values of the wrong shape fail here, as they would in the container.
    settings = settings_class(_env_file=tmp_path / "absent.env")
    # Defaults that name loopback addresses are the local stack's; in a container they must be set.
    for name, field in settings_class.model_fields.items():
        if "127.0.0.1" in str(field.default):
            assert name.upper() in environment, f"{service} keeps the loopback default of {name.upper()}"
    assert settings.internal_token.get_secret_value() == environment["INTERNAL_TOKEN"]


def test_every_service_shares_the_internal_token(compose: dict[str, Any]) -> None:
    tokens = {set_environment(compose, service)["INTERNAL_TOKEN"] for service in PYTHON_SERVICES}
    assert len(tokens) == 1


def test_service_urls_name_compose_services_and_their_ports(compose: dict[str, Any]) -> None:
    listening = dict(INFRASTRUCTURE_PORTS)
    for service in PYTHON_SERVICES:
        listening[service] = int(option_value(compose["services"][service]["command"], "--port"))
    for service in PYTHON_SERVICES:
        for name, value in set_environment(compose, service).items():
            if (name.endswith("_URL") and "://" in value) or name == "KAFKA_BOOTSTRAP_SERVERS":
                address = re.sub(r"^\w+://(?:[^@/]*@)?", "", value).split("/")[0]
                host, _, port = address.partition(":")
                assert host in compose["services"], f"{service} {name}={value}: no such service"
                assert int(port) == listening[host], f"{service} {name}={value}: {host} listens on {listening[host]}"


def test_storage_falls_back_to_the_bundled_s3_unless_its_env_file_names_credentials(
    compose: dict[str, Any], clean_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    storage = set_environment(compose, "storage_ms")
    s3 = set_environment(compose, "s3")
    for name, value in storage.items():
        clean_environment.setenv(name, value)
    # Real variables win over the env file: compose must leave the S3_* that the file may set alone.
    assert not {"S3_KEY_ID", "S3_KEY_SECRET", "S3_ENDPOINT_URL", "S3_BUCKET", "S3_REGION"} & set(storage)

    bundled = StorageSettings(_env_file=tmp_path / "absent.env")
    assert bundled.s3_endpoint_url == "http://s3:8333"
    assert bundled.s3_key_id == s3["AWS_ACCESS_KEY_ID"]
    assert bundled.s3_key_secret is not None and bundled.s3_key_secret.get_secret_value() == s3["AWS_SECRET_ACCESS_KEY"]
    assert f"-bucket={bundled.s3_bucket}" in compose["services"]["s3"]["command"]

    env_file = tmp_path / ".env"
    env_file.write_text("S3_KEY_ID=AKIAEXAMPLE\nS3_KEY_SECRET=example-secret\nS3_BUCKET=my-bucket\n")
    aws = StorageSettings(_env_file=env_file)
    assert (aws.s3_endpoint_url, aws.s3_key_id, aws.s3_bucket) == (None, "AKIAEXAMPLE", "my-bucket")


def test_storage_env_file_is_read_from_the_mounted_folder(compose: dict[str, Any]) -> None:
    env_file = Path(set_environment(compose, "storage_ms")["STORAGE_ENV_FILE"])
    assert env_file.name == ".env"
    # The folder is mounted, not the file: a bind mount of a missing file would create a directory.
    assert (str(ROOT / "storage_ms"), str(env_file.parent), "ro") in volume_mounts(compose, "storage_ms")


def test_nginx_renders_the_launchers_template(compose: dict[str, Any]) -> None:
    mounts = volume_mounts(compose, "nginx")
    [(source, target, mode)] = [m for m in mounts if m[1].startswith("/etc/nginx/templates/")]
    assert (source, mode) == (str(TEMPLATES / "liftbit.conf.template"), "ro")
    assert target.endswith(".template")

    template = Path(source).read_text()
    placeholders = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", template))
    nginx = set_environment(compose, "nginx")
    assert placeholders <= set(nginx)
    # The image substitutes just these names, as the launcher's render_template does.
    only = re.compile(nginx["NGINX_ENVSUBST_FILTER"])
    assert {name for name in nginx if only.search(name)} == placeholders

    rendered = render_template(template, {name: nginx[name] for name in placeholders})
    files_port = option_value(compose["services"]["files_ms"]["command"], "--port")
    assert "listen 80;" in rendered
    assert f"server files_ms:{files_port};" in rendered
    assert f"resolver {nginx['NGINX_RESOLVER']} " in rendered
    # Compose's password rate limits default to the launcher's.
    limits = PasswordLimits()
    assert f"rate={limits.per_address_rate};" in rendered and f"rate={limits.total_rate};" in rendered
    assert f"burst={limits.per_address_burst} nodelay" in rendered and f"burst={limits.total_burst} nodelay" in rendered


def test_the_event_topic_is_created_with_metadata_ms_partitions(compose: dict[str, Any]) -> None:
    command = [str(part) for part in compose["services"]["kafka-init"]["command"]]
    assert option_value(command, "--topic") == TOPIC
    assert option_value(command, "--partitions") == set_environment(compose, "metadata_ms")["KAFKA_PARTITIONS"]
    assert set_environment(compose, "metadata_ms").get("KAFKA_TOPIC", TOPIC) == TOPIC
    assert set_environment(compose, "analytics_ms").get("KAFKA_TOPIC", TOPIC) == TOPIC


def test_analytics_uses_sparks_kafka_source_and_a_persistent_checkpoint(compose: dict[str, Any]) -> None:
    analytics = set_environment(compose, "analytics_ms")
    assert analytics["ANALYTICS_SOURCE"] == "kafka"
    checkpoint = Path(analytics["ANALYTICS_CHECKPOINT_DIR"])
    named_volumes = set(compose["volumes"])
    assert any(
        source in named_volumes and checkpoint.is_relative_to(target)
        for source, target, _ in volume_mounts(compose, "analytics_ms")
    )


def test_the_stack_starts_in_dependency_order(compose: dict[str, Any]) -> None:
    services: dict[str, Any] = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency}'s health"
    assert services["nginx"]["depends_on"]["files_ms"]["condition"] == "service_healthy"
    for service in ("metadata_ms", "storage_ms"):
        assert services["files_ms"]["depends_on"][service]["condition"] == "service_healthy"
    assert services["metadata_ms"]["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"


def test_api_images_share_their_dependency_stage() -> None:
    stages = {
        service: dockerfile_stage(service, "dependencies") for service in ("files_ms", "storage_ms", "metadata_ms")
    }
    assert len(set(stages.values())) == 1
    assert "uv sync --frozen --no-dev" in stages["files_ms"]
    assert "uv sync --frozen --no-dev" in dockerfile_stage("analytics_ms", "dependencies")


def test_secrets_stay_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "**/.env" in ignored


def test_replica_settings_set_the_worker_processes_as_the_launcher_does() -> None:
    replicated = {"files_ms": "FILES_REPLICAS", "storage_ms": "STORAGE_REPLICAS", "metadata_ms": "METADATA_REPLICAS"}
    assert replicated == REPLICA_SETTINGS
    defaults = run_compose_config()
    assert {service: set_environment(defaults, service)["WEB_CONCURRENCY"] for service in replicated} == dict.fromkeys(
        replicated, "1"
    )
    two = run_compose_config(dict.fromkeys(replicated.values(), "2"))
    assert {service: set_environment(two, service)["WEB_CONCURRENCY"] for service in replicated} == dict.fromkeys(
        replicated, "2"
    )
