"""PostgreSQL: its own data folder and port, run as the unprivileged postgres user when we are root
(postgres refuses to run as root), scram passwords even on loopback."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from scripts.stack.config import LauncherError, StackConfig, write_private
from scripts.stack.process import Part


def postgres_bin(program: str) -> str:
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return str(candidates[-1])
    found = shutil.which(program)
    if found is None:
        raise LauncherError(f"PostgreSQL's {program} not found; run scripts/bootstrap.sh")
    return str(found)


def data_dir(config: StackConfig) -> Path:
    return config.home / "postgres"


def _as_postgres() -> dict[str, object]:
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def prepare(config: StackConfig) -> None:
    """initdb on first start."""
    data = data_dir(config)
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    password_file = config.run / "pgpass.init"
    write_private(password_file, config.secrets["POSTGRES_PASSWORD"] + "\n")
    if os.geteuid() == 0:
        postgres_user = pwd.getpwnam("postgres")
        for path in (data, password_file):
            os.chown(path, postgres_user.pw_uid, postgres_user.pw_gid)
        # The server runs as postgres: every folder above its data must be searchable by it.
        for parent in data.parents:
            if parent == Path("/"):
                break
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
    result = subprocess.run(
        [
            postgres_bin("initdb"),
            "-D",
            str(data),
            "-U",
            "liftbit",
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        capture_output=True,
        text=True,
        check=False,
        **_as_postgres(),  # type: ignore[call-overload]
    )
    password_file.unlink()
    if result.returncode != 0:
        raise LauncherError(f"initdb failed:\n{result.stdout}\n{result.stderr}")


def command(config: StackConfig) -> list[str]:
    data = str(data_dir(config))
    return [
        postgres_bin("postgres"),
        *("-D", data, "-p", str(config.ports["POSTGRES_PORT"]), "-k", data),
        *("-c", "listen_addresses=127.0.0.1"),
    ]


def _server_url(config: StackConfig) -> str:
    return config.database_url.rsplit("/", 1)[0] + "/postgres"


def ready(config: StackConfig) -> bool:
    import psycopg

    try:
        with psycopg.connect(_server_url(config), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def create_database(config: StackConfig) -> None:
    import psycopg

    with psycopg.connect(_server_url(config), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = 'liftbit'").fetchone()
        if not exists:
            connection.execute("CREATE DATABASE liftbit")


PART = Part(
    "postgres",
    command=command,
    ready=ready,
    prepare=prepare,
    after_start=create_database,
    stop_signal=signal.SIGINT,  # "fast" shutdown: clean, without waiting for clients
    run_as_postgres=True,
)
