"""`python -m scripts.stack up|down|start|stop|status|logs|backup|restore`: the commands behind
`make up`, `make down`, `make status`, `make logs`, `make backup` and `make restore`, and the
supervisor they start; `spark-cluster up|down`, a Spark cluster for analytics_ms beside the stack."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from scripts.stack import backup, spark_cluster
from scripts.stack.config import DEFAULT_HOME, PART_NAMES, LauncherError, StackConfig, load_config, write_private
from scripts.stack.info import StackInfo, is_running, process_alive, read_env_file, read_pid
from scripts.stack.parts import PARTS
from scripts.stack.process import Part, http_body, log_tail, stop_part
from scripts.stack.supervisor import Supervisor, held_file, read_state, start_supervisor

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
spark_app = typer.Typer(
    help="A Spark standalone cluster for SPARK_MASTER_URL, from pyspark's own distribution", no_args_is_help=True
)
app.add_typer(spark_app, name="spark-cluster")
HomeOption = Annotated[Path, typer.Option("--home", envvar="LIFTBIT_HOME", help="Data folder of the stack")]
PROGRESS_EVERY_SECONDS = 5.0
USABLE = frozenset({"ok", "degraded"})  # /health's statuses under which uploads and downloads work


def say(message: str) -> None:
    print(message, flush=True)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise typer.Exit(1)


def settings_file(config: StackConfig) -> Path:
    return config.run / "settings.env"


def supervisor_running(home: Path) -> bool:
    return is_running(home / "run" / "supervisor.pid")


def anything_running(home: Path) -> bool:
    return supervisor_running(home) or any(is_running(home / "run" / f"{name}.pid") for name in PART_NAMES)


def supervised_config(home: Path) -> StackConfig:
    """The configuration the supervisor starts parts with: the ports in stack.env and the service
    settings `up` recorded, so a part restarted later runs exactly as it first did."""
    config = load_config(home, keep_recorded_ports=True)
    config.settings = read_env_file(settings_file(config))
    return config


def ensure_supervisor(config: StackConfig) -> None:
    if not supervisor_running(config.home):
        start_supervisor(config)


def parse_parts(names: list[str] | None) -> list[Part]:
    unknown = set(names or []) - set(PART_NAMES)
    if unknown:
        fail(f"unknown part(s) {', '.join(sorted(unknown))}; parts are {', '.join(PART_NAMES)}")
    return [p for p in PARTS if not names or p.name in names]


def follow_start(config: StackConfig, parts: list[Part], already: set[str]) -> None:
    """Print each part as it becomes ready (they start side by side), and every few seconds what
    is still awaited."""
    for part in parts:
        if part.name in already:
            say(f"  {part.name:<13} already running")
    pending = [part for part in parts if part.name not in already]
    started = time.monotonic()
    next_note = started + PROGRESS_EVERY_SECONDS
    deadline = started + sum(part.start_timeout for part in pending) + 30
    while pending:
        for part in list(pending):
            state = read_state(config, part.name)
            if state.startswith("ready") and is_running(config.run / f"{part.name}.pid"):
                say(f"  {part.name:<13} {state} (at {time.monotonic() - started:4.1f} s)")
                pending.remove(part)
            elif state.startswith("failed") or time.monotonic() > deadline:
                stop_everything(config.home)
                fail(f"{part.name} did not start: {state}\n  {log_tail(config, part)}")
        if pending and not supervisor_running(config.home):
            fail(f"the supervisor exited while starting {pending[0].name}; see {config.logs / 'supervisor.log'}")
        if pending and time.monotonic() >= next_note:
            waiting = ", ".join(f"{part.name} ({read_state(config, part.name)})" for part in pending)
            say(f"  … waiting ({time.monotonic() - started:.0f} s) for {waiting}")
            next_note += PROGRESS_EVERY_SECONDS
        time.sleep(0.05)


def health_status(status: int | None, body: str) -> str:
    """The stack's status from /health ("ok", "degraded", "unavailable"), or "unreachable"."""
    try:
        reported = json.loads(body)["status"]
    except (ValueError, KeyError, TypeError):
        return "unreachable" if status is None else "unavailable"
    return str(reported)


def wait_for_health(config: StackConfig, timeout: float, accept: frozenset[str]) -> str:
    """Until /health's status is one of ``accept``, printing every few seconds which checks are
    not ok; returns the status it reached."""
    started = time.monotonic()
    next_note = started + PROGRESS_EVERY_SECONDS
    while True:
        status, body = http_body(f"{config.url}/health")
        if (reached := health_status(status, body)) in accept:
            return reached
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            fail(f"/health is not {' or '.join(sorted(accept))} after {timeout:.0f} s: {body}")
        if time.monotonic() >= next_note:
            say(f"  … waiting for /health ({elapsed:.0f} s): {pending_checks(status, body)}")
            next_note += PROGRESS_EVERY_SECONDS
        time.sleep(0.2)


def pending_checks(status: int | None, body: str) -> str:
    """What /health still waits for, e.g. "analytics_ms: unavailable, streaming_query: starting"."""
    try:
        checks = json.loads(body)["checks"]
        waiting = [f"{name}: {state}" for name, state in checks.items() if state != "ok"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"{status} {body[:200]}"
    return ", ".join(waiting) or f"{status}"


def stop_everything(home: Path) -> list[str]:
    """Stop the supervisor (which stops every part), then any part still running by its PID."""
    stopped: list[str] = []
    supervisor_pid = read_pid(home / "run" / "supervisor.pid")
    if supervisor_pid is not None and process_alive(supervisor_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(supervisor_pid, signal.SIGTERM)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process_alive(supervisor_pid):
            time.sleep(0.1)
        if process_alive(supervisor_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(supervisor_pid, signal.SIGKILL)
        stopped.append("supervisor")
    (home / "run" / "supervisor.pid").unlink(missing_ok=True)
    bare = StackConfig(home=home, ports={}, secrets={})
    for part in reversed(PARTS):  # parts the supervisor could not stop (it was killed, say)
        if stop_part(bare, part):
            stopped.append(part.name)
    return stopped


@app.command()
def up(
    home: HomeOption = DEFAULT_HOME,
    port_base: Annotated[str | None, typer.Option(help="First internal port, or 'auto' (free ports)")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the file API is usable (/health 200)")] = True,
    wait_analytics: Annotated[bool, typer.Option(help="Also wait for the analytics query (/health ok)")] = False,
    health_timeout: float = 180.0,
) -> None:
    """Start every part that is not running (in dependency order) under the supervisor; leave
    running parts alone. Returns once the file API is usable; the analytics query may still be
    starting then (Spark takes 20–50 s), and `status` tells when it runs."""
    started_at = time.monotonic()
    config = start_parts(home.resolve(), port_base, list(PARTS))
    reached = "ok"
    if wait:
        reached = wait_for_health(config, health_timeout, USABLE if not wait_analytics else frozenset({"ok"}))
    say(f"LiftBit is up at {config.url} (API docs {config.url}/docs) in {time.monotonic() - started_at:.1f} s")
    if reached == "degraded":
        say(
            "  analytics is still starting in the background (Spark's streaming query); downloads meanwhile"
            " are counted once it runs. `make status` says when it is ready."
        )
    say(f"Endpoints: {config.home / 'stack.env'}  Logs: {config.logs}  Supervisor: {config.logs / 'supervisor.log'}")
    if config.new_admin_password:
        # Printed this once; afterwards it is only in secrets.env (mode 600).
        say(
            f"First administrator: {config.admin_user}  password: {config.secrets['LIFTBIT_ADMIN_PASSWORD']}"
            f"  (kept in {config.home / 'secrets.env'} as LIFTBIT_ADMIN_PASSWORD; change it with"
            f" `liftbit password`)"
        )


def start_parts(home: Path, port_base: str | None, parts: list[Part]) -> StackConfig:
    """Start ``parts`` under the supervisor (which keeps every other part held), recording the
    stack's endpoints and settings the first time."""
    running = anything_running(home)
    try:
        config = load_config(home, port_base, keep_recorded_ports=running)
    except LauncherError as exc:
        fail(str(exc))
    for folder in (config.home, config.logs, config.run):
        folder.mkdir(parents=True, exist_ok=True)
    config.home.chmod(0o755)
    write_private(config.home / "stack.env", "".join(f"{k}={v}\n" for k, v in config.endpoints().items()))
    if not running:
        write_private(settings_file(config), "".join(f"{k}={v}\n" for k, v in sorted(config.settings.items())))
    already = {part.name for part in parts if is_running(config.run / f"{part.name}.pid")}
    for part in PARTS:
        if part in parts:
            held_file(config, part.name).unlink(missing_ok=True)
        elif not is_running(config.run / f"{part.name}.pid"):
            held_file(config, part.name).touch()
    ensure_supervisor(config)
    follow_start(config, parts, already)
    return config


@app.command()
def down(home: HomeOption = DEFAULT_HOME) -> None:
    """Stop the supervisor and every part, by PID; the data stays."""
    home = home.resolve()
    for name in stop_everything(home):
        say(f"  {name:<13} stopped")
    say(f"LiftBit is down (data kept in {home})")


@app.command()
def start(parts: list[str], home: HomeOption = DEFAULT_HOME) -> None:
    """Let the supervisor start the named parts again (after `stop`), with the stack's ports."""
    config = supervised_config(home.resolve())
    chosen = parse_parts(parts)
    already = {part.name for part in chosen if is_running(config.run / f"{part.name}.pid")}
    for part in chosen:
        held_file(config, part.name).unlink(missing_ok=True)
    ensure_supervisor(config)
    follow_start(config, chosen, already)


@app.command()
def stop(parts: list[str], home: HomeOption = DEFAULT_HOME) -> None:
    """Stop the named parts only, and keep them stopped until `start` or `up` (used to test how
    the rest copes)."""
    bare = StackConfig(home=home.resolve(), ports={}, secrets={})
    for part in parse_parts(parts):
        held_file(bare, part.name).touch()
        if stop_part(bare, part):
            say(f"  {part.name:<13} stopped")


@app.command()
def status(home: HomeOption = DEFAULT_HOME) -> None:
    """Which parts run (PIDs, restarts by the supervisor), and what /health says."""
    info = StackInfo(home=home.resolve(), env=read_env_file(home.resolve() / "stack.env"))
    bare = StackConfig(home=info.home, ports={}, secrets={})
    supervisor_pid = read_pid(info.run_dir / "supervisor.pid")
    say(f"  {'supervisor':<13} " + (f"running (pid {supervisor_pid})" if supervisor_running(info.home) else "stopped"))
    for name in PART_NAMES:
        restarts = info.restarts(name)
        history = (
            f", restarted {restarts.count}× (last {restarts.last_at}: {restarts.last_reason})" if restarts.count else ""
        )
        state = f"running (pid {info.pid(name)}{history})" if info.is_running(name) else "stopped"
        say(f"  {name:<13} {state} — {read_state(bare, name)}")
    if "LIFTBIT_URL" in info.env:
        code, body = http_body(f"{info.url}/health")
        say(f"health ({code if code is not None else 'unreachable'}): {body}")
        analytics = {"ok": "ready", "degraded": "still starting (the file API is usable meanwhile)"}
        say(f"analytics: {analytics.get(health_status(code, body), 'not running')}")


@app.command()
def logs(
    part: Annotated[str | None, typer.Argument(help="One part (or supervisor); all when omitted")] = None,
    home: HomeOption = DEFAULT_HOME,
    lines: int = 100,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
) -> None:
    """Print the last lines of a part's log (or of every log)."""
    log_dir = home.resolve() / "logs"
    if part == "supervisor":
        names = ["supervisor"]
    else:
        names = [p.name for p in parse_parts([part] if part else None)] + ([] if part else ["supervisor"])
    files = [str(log_dir / f"{name}.log") for name in names if (log_dir / f"{name}.log").exists()]
    if not files:
        fail(f"no logs in {log_dir}")
    os.execvp("tail", ["tail", "-n", str(lines), *(["-F"] if follow else []), *files])


@app.command("backup")
def backup_command(
    to: Annotated[str, typer.Option("--to", help="An empty folder, or s3://bucket/prefix")],
    home: HomeOption = DEFAULT_HOME,
) -> None:
    """Write one consistent backup of the running stack (metadata and objects, with a manifest)."""
    try:
        backup.backup(StackInfo.read(home.resolve()), to, say=say)
    except (LauncherError, FileNotFoundError) as exc:
        fail(str(exc))


@app.command()
def restore(
    source: Annotated[str, typer.Option("--from", help="A backup's folder, or s3://bucket/prefix")],
    home: HomeOption = DEFAULT_HOME,
    port_base: Annotated[str | None, typer.Option(help="First internal port, or 'auto' (free ports)")] = None,
    force: Annotated[bool, typer.Option(help="Restore into a home that already holds a stack's data")] = False,
) -> None:
    """Start a stack in HOME and bring a backup back into it: the database replaced by the
    backup's, every object copied and then checked against the manifest."""
    home = home.resolve()
    try:
        store = backup.open_store(source)
        manifest = backup.read_manifest(store, source)
    except LauncherError as exc:
        fail(str(exc))
    if home.exists() and any(home.iterdir()) and not force:
        fail(f"{home} is not empty: restore into a new LIFTBIT_HOME, or pass --force to replace its data")
    say(f"restoring the backup of {manifest.source} made {manifest.created_at} into {home}")
    # Postgres and S3 first, the backup into them, then the services: they find their schema
    # migrated already, the objects in place, and start once.
    start_parts(home, port_base, [part for part in PARTS if part.name in ("postgres", "s3")])
    try:
        stack = StackInfo.read(home)
        backup.restore_metadata(stack, store)
        say("metadata restored")
        backup.restore_objects(stack, store, manifest, say=say)
    except LauncherError as exc:
        fail(f"{exc} (only Postgres and S3 run: `make down`, fix it, restore again with --force)")
    up(home=home, port_base=None, wait=True, wait_analytics=False, health_timeout=180.0)
    say(f"restored: {len(manifest.objects)} objects, {manifest.total_bytes} bytes, all verified")
    say("every account, administrators included, logs in with its password from the backed-up stack")


@app.command(hidden=True)
def supervise(home: HomeOption = DEFAULT_HOME) -> None:
    """Run the supervisor in the foreground (`up` starts it in the background)."""
    Supervisor(supervised_config(home.resolve())).run()


SparkHomeOption = Annotated[Path, typer.Option("--home", help="Folder of the Spark cluster")]


@spark_app.command("up")
def spark_cluster_up(
    home: SparkHomeOption = DEFAULT_HOME / "spark-cluster",
    workers: Annotated[int, typer.Option(min=1)] = 2,
    cores: Annotated[int, typer.Option(min=1, help="Cores of each worker")] = 1,
    memory: Annotated[str, typer.Option(help="Memory of each worker for its executors")] = "1g",
) -> None:
    """Start a Spark master and its workers on free loopback ports; return once every worker is
    registered."""
    try:
        cluster = spark_cluster.start_cluster(home, workers=workers, cores=cores, memory=memory)
    except LauncherError as exc:
        fail(str(exc))
    say(f"Spark master {cluster.master_url} (web UI {cluster.webui_url}) with {workers} worker(s)")
    say(f"Run analytics on it: make down; SPARK_MASTER_URL={cluster.master_url} make up")


@spark_app.command("down")
def spark_cluster_down(home: SparkHomeOption = DEFAULT_HOME / "spark-cluster") -> None:
    """Stop the workers (with their executors) and the master, by PID."""
    for name in spark_cluster.stop_cluster(home):
        say(f"  {name:<15} stopped")
    say(f"the Spark cluster in {home.resolve()} is down")
