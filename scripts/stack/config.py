"""Where a stack lives and how it is wired: its data folder, ports, secrets and service settings.

Everything lives under one data folder (LIFTBIT_HOME, default ./.liftbit): Postgres data, S3
objects, the broker's log (kept on the local S3 server), Spark's checkpoint, secrets, PID files
and logs/<part>.log.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scripts.stack.info import read_env_file

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DEFAULT_HOME = ROOT / ".liftbit"

# Start order; parts/__init__.py defines each of them.
PART_NAMES = ("postgres", "s3", "broker", "metadata_ms", "storage_ms", "analytics_ms", "files_ms", "nginx")

# Internal ports are PORT_BASE + offset; every one can also be set on its own (e.g. FILES_PORT).
PORT_OFFSETS = {
    "FILES_PORT": 1,
    "METADATA_PORT": 2,
    "STORAGE_PORT": 3,
    "ANALYTICS_PORT": 4,
    "POSTGRES_PORT": 5,
    "KAFKA_PORT": 6,
    "S3_PORT": 7,
    "WEED_MASTER_PORT": 8,
    "WEED_VOLUME_PORT": 9,
    "WEED_FILER_PORT": 10,
    "WEED_ADMIN_PORT": 11,
}
# SeaweedFS also listens on each of its HTTP ports + 10000 (gRPC).
WEED_GRPC_SHIFT = 10000
WEED_PORTS = ("S3_PORT", "WEED_MASTER_PORT", "WEED_VOLUME_PORT", "WEED_FILER_PORT", "WEED_ADMIN_PORT")
SECRET_NAMES = ("POSTGRES_PASSWORD", "S3_KEY_ID", "S3_KEY_SECRET", "INTERNAL_TOKEN", "LIFTBIT_ADMIN_PASSWORD")
ADMIN_PASSWORD = "LIFTBIT_ADMIN_PASSWORD"


@dataclass(frozen=True)
class PasswordLimits:
    """nginx's rate limits on the requests that make metadata_ms hash a password (registration,
    login, a share link's password), in nginx's own terms: a rate ("10r/s", "30r/m") and how many
    requests beyond it are let through at once before the rest get 429. Refused at the front door
    an excess request costs microseconds; let in, each costs an argon2 hash (~60 ms of a core here)
    or, beyond PASSWORD_HASH_QUEUE, a trip through two services to get its 503."""

    per_address_rate: str = "10r/s"  # a person types a few a minute; an office NAT, a few a second
    per_address_burst: int = 30
    # In all: a third of what one core hashes (~16/s). At 20/s a flood still took the victim's
    # download p50 to 2.3× quiet (the hashes and their 503s kept both cores busy); at 5/s, 1.9×
    # (bench/RESULTS-flood.md). 300 logins a minute is plenty for a team.
    total_rate: str = "5r/s"
    total_burst: int = 10

    def __post_init__(self) -> None:
        for rate in (self.per_address_rate, self.total_rate):
            if not re.fullmatch(r"[1-9][0-9]*r/[sm]", rate):
                raise LauncherError(f"password rate {rate!r}: expected nginx's form, e.g. 10r/s or 30r/m")

    @classmethod
    def from_environment(cls) -> PasswordLimits:
        defaults = cls()
        return cls(
            per_address_rate=os.environ.get("LIFTBIT_PASSWORD_RATE_PER_ADDRESS", defaults.per_address_rate),
            per_address_burst=int(os.environ.get("LIFTBIT_PASSWORD_BURST_PER_ADDRESS", defaults.per_address_burst)),
            total_rate=os.environ.get("LIFTBIT_PASSWORD_RATE_TOTAL", defaults.total_rate),
            total_burst=int(os.environ.get("LIFTBIT_PASSWORD_BURST_TOTAL", defaults.total_burst)),
        )


class LauncherError(Exception):
    """Something the launcher cannot do; the CLI prints it as one line and exits 1."""


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (secrets, endpoints)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Bases for --port-base auto: the whole block, gRPC twins included (up to base + 10011), stays
# under 32768, where Linux's range for outgoing connections starts by default. A port in that
# range can be held by a connection in TIME-WAIT at the moment a part binds it (seen once, nginx).
AUTO_PORT_BASES = range(10000, 32768 - WEED_GRPC_SHIFT - max(PORT_OFFSETS.values()), 20)


def pick_free_base() -> int:
    """A port block where PORT, every internal port and SeaweedFS's gRPC twins are all free."""
    for _ in range(200):
        base = random.choice(AUTO_PORT_BASES)
        wanted = [base] + [base + o for o in PORT_OFFSETS.values()]
        wanted += [base + PORT_OFFSETS[name] + WEED_GRPC_SHIFT for name in WEED_PORTS]
        if all(port_is_free(p) for p in wanted):
            return base
    raise LauncherError("no free block of ports found")


# Copies of a service behind its one port: uvicorn's worker processes (WEB_CONCURRENCY), the kernel
# spreading connections among them. Everything they share is in Postgres (token checks, the login
# throttle, the outbox relay's lock), so any number serves the same answers.
REPLICA_SETTINGS = {"files_ms": "FILES_REPLICAS", "storage_ms": "STORAGE_REPLICAS", "metadata_ms": "METADATA_REPLICAS"}
MAX_REPLICAS = 8


@dataclass
class StackConfig:
    """The launcher's view of one stack: folder, ports, secrets, and settings passed to services."""

    home: Path
    ports: dict[str, int]
    secrets: dict[str, str]
    bind_address: str = "0.0.0.0"
    server_names: tuple[str, ...] = ()  # LIFTBIT_SERVER_NAME: the only Host names nginx answers for
    password_limits: PasswordLimits = PasswordLimits()
    settings: dict[str, str] = field(default_factory=dict)  # extra env for the services (tests tune them)
    # The first admin's password was generated by this run (a fresh home, or one from before
    # admins existed): `up` prints it this once; afterwards it is only in secrets.env.
    new_admin_password: bool = False

    def __post_init__(self) -> None:
        for service in REPLICA_SETTINGS:
            self.replicas(service)

    def replicas(self, service: str) -> int:
        """How many copies of ``service`` run (1 for a service without the setting)."""
        name = REPLICA_SETTINGS.get(service)
        value = self.settings.get(name, "1") if name else "1"
        if not value.isdigit() or not 1 <= int(value) <= MAX_REPLICAS:
            raise LauncherError(f"{name}={value!r}: expected a whole number from 1 to {MAX_REPLICAS}")
        return int(value)

    @property
    def admin_user(self) -> str:
        return self.settings.get("LIFTBIT_ADMIN_USER") or os.environ.get("LIFTBIT_ADMIN_USER") or "admin"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['PORT']}"

    def service_url(self, port_name: str) -> str:
        return f"http://127.0.0.1:{self.ports[port_name]}"

    @property
    def database_url(self) -> str:
        return (
            f"postgresql://liftbit:{self.secrets['POSTGRES_PASSWORD']}@127.0.0.1:{self.ports['POSTGRES_PORT']}/liftbit"
        )

    @property
    def s3_url(self) -> str:
        return self.service_url("S3_PORT")

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.ports['KAFKA_PORT']}"

    def endpoints(self) -> dict[str, str]:
        """What stack.env holds: every endpoint a user or a tool may need."""
        values = {
            "LIFTBIT_HOME": str(self.home),
            "LIFTBIT_URL": self.url,
            "FILES_URL": self.service_url("FILES_PORT"),
            "METADATA_URL": self.service_url("METADATA_PORT"),
            "STORAGE_URL": self.service_url("STORAGE_PORT"),
            "ANALYTICS_URL": self.service_url("ANALYTICS_PORT"),
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "KAFKA_TOPIC": "file-events",
            "S3_ENDPOINT_URL": self.s3_url,
            "S3_KEY_ID": self.secrets["S3_KEY_ID"],
            "S3_KEY_SECRET": self.secrets["S3_KEY_SECRET"],
            "S3_BUCKET": "liftbit",
            "INTERNAL_TOKEN": self.secrets["INTERNAL_TOKEN"],
            "LOG_DIR": str(self.logs),
        }
        values |= {name: str(port) for name, port in self.ports.items()}
        values |= {f"{part.upper()}_PID_FILE": str(self.run / f"{part}.pid") for part in PART_NAMES}
        return values


def _ports(recorded: dict[str, str], keep_recorded: bool, port_base: str | None) -> dict[str, int]:
    if keep_recorded and recorded:
        return {name: int(recorded[name]) for name in ("PORT", *PORT_OFFSETS) if name in recorded}
    base_setting = port_base or os.environ.get("LIFTBIT_PORT_BASE", "3100")
    if base_setting == "auto":
        base = pick_free_base()
        return {"PORT": base} | {name: base + offset for name, offset in PORT_OFFSETS.items()}
    base = int(base_setting)
    ports = {"PORT": int(os.environ.get("PORT", "3000"))}
    return ports | {name: int(os.environ.get(name, base + offset)) for name, offset in PORT_OFFSETS.items()}


def _secrets(home: Path) -> dict[str, str]:
    """The stack's generated secrets, made once and kept in secrets.env (mode 600). Only missing
    ones are made: a home from before a secret existed keeps all the others."""
    secrets_file = home / "secrets.env"
    stored = read_env_file(secrets_file)
    if all(name in stored for name in SECRET_NAMES):
        return stored
    stored = {
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "S3_KEY_ID": "LB" + secrets.token_hex(9).upper(),
        "S3_KEY_SECRET": secrets.token_urlsafe(30),
        "INTERNAL_TOKEN": secrets.token_urlsafe(32),
        # The first admin's; metadata_ms uses it only to create that account if it is missing.
        ADMIN_PASSWORD: secrets.token_urlsafe(18),
    } | stored
    home.mkdir(parents=True, exist_ok=True)
    write_private(secrets_file, "".join(f"{k}={v}\n" for k, v in stored.items()))
    return stored


def load_config(home: Path, port_base: str | None = None, *, keep_recorded_ports: bool) -> StackConfig:
    """Ports come from the environment (PORT, LIFTBIT_PORT_BASE, FILES_PORT, …), except while a
    stack is running in this home (``keep_recorded_ports``): then its recorded ports are kept."""
    home = home.resolve()
    recorded = read_env_file(home / "stack.env")
    names = service_setting_names()
    had_admin_password = ADMIN_PASSWORD in read_env_file(home / "secrets.env")
    stack_secrets = _secrets(home)
    return StackConfig(
        home=home,
        ports=_ports(recorded, keep_recorded_ports, port_base),
        secrets=stack_secrets,
        new_admin_password=not had_admin_password,
        bind_address=os.environ.get("LIFTBIT_BIND", "0.0.0.0"),
        server_names=tuple(
            name.strip().lower() for name in os.environ.get("LIFTBIT_SERVER_NAME", "").split(",") if name.strip()
        ),
        password_limits=PasswordLimits.from_environment(),
        settings={k: v for k, v in os.environ.items() if k in names and k != ADMIN_PASSWORD},
    )


def service_setting_names() -> set[str]:
    """Every setting a service reads (README's configuration table); passed on when set here."""
    from analytics_ms.settings import AnalyticsSettings
    from files_ms.settings import FilesSettings
    from metadata_ms.settings import MetadataSettings
    from storage_ms.settings import StorageSettings

    classes = (FilesSettings, MetadataSettings, StorageSettings, AnalyticsSettings)
    return {name.upper() for cls in classes for name in cls.model_fields} | set(REPLICA_SETTINGS.values())
