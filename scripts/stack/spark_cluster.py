"""A Spark standalone cluster on this machine, run from pyspark's own distribution (the pip
package carries `bin/spark-class` and the jars): one master and N workers on loopback, for
analytics_ms with SPARK_MASTER_URL=spark://127.0.0.1:PORT.

`python -m scripts.stack spark-cluster up|down` for operators, ``spark_cluster()`` for tests.
Independent of the stack: it needs none and `make down` leaves it alone. Its folder holds
`spark-cluster.env` (the master's URL and every port), `run/<process>.pid`, `logs/<process>.log`
and each worker's `work/` (the executors' logs). Every process runs in a session of its own, so a
worker stopped by its PID takes its executors (its children) along, and nothing is stopped by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyspark

from scripts.stack.config import LauncherError, StackConfig, write_private
from scripts.stack.info import is_running, read_env_file, read_pid
from scripts.stack.process import Part, http_body, launch, log_tail, stop_part, wait_ready

SPARK_HOME = Path(pyspark.__file__).resolve().parent
ENV_FILE = "spark-cluster.env"
MASTER = "spark-master"


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free now (all held open at once, so the kernel cannot repeat one)."""
    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def worker_name(index: int) -> str:
    return f"spark-worker-{index}"


@dataclass(frozen=True)
class SparkCluster:
    """A cluster as its users see it: the ports recorded in ``home/spark-cluster.env``."""

    home: Path
    ports: dict[str, int]

    @classmethod
    def read(cls, home: Path) -> SparkCluster:
        recorded = read_env_file(home.resolve() / ENV_FILE)
        return cls(home.resolve(), {k: int(v) for k, v in recorded.items() if k.endswith("_PORT")})

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.ports['SPARK_MASTER_PORT']}"

    @property
    def webui_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['SPARK_MASTER_WEBUI_PORT']}"

    @property
    def workers(self) -> list[int]:
        """The workers' indexes, 1 … N."""
        prefix, suffix = "SPARK_WORKER_", "_WEBUI_PORT"
        return sorted(
            int(n.removeprefix(prefix).removesuffix(suffix))
            for n in self.ports
            if n.startswith(prefix) and n.endswith(suffix)
        )

    @property
    def config(self) -> StackConfig:
        """The launcher's view (its logs/ and run/ folders), to start and stop the processes with."""
        return StackConfig(home=self.home, ports=self.ports, secrets={})

    def state(self) -> dict[str, Any]:
        """The master's own account (its web UI's /json/): workers, applications, their cores."""
        status, body = http_body(f"{self.webui_url}/json/")
        if status != 200:
            raise LauncherError(f"the Spark master's web UI answered {status}: {body[:200]}")
        state: dict[str, Any] = json.loads(body)
        return state

    def worker_state(self, index: int) -> str | None:
        """ALIVE, DEAD, … as the master sees worker ``index``; None while it has not registered."""
        port = self.ports[f"SPARK_WORKER_{index}_PORT"]
        states = [w["state"] for w in self.state()["workers"] if w["port"] == port]
        return states[-1] if states else None

    def work_dir(self, index: int) -> Path:
        """Where worker ``index`` runs its executors: ``APP/EXECUTOR/stderr`` is each one's log."""
        return self.home / "work" / worker_name(index)

    def worker_pid(self, index: int) -> int | None:
        return read_pid(self.config.run / f"{worker_name(index)}.pid")

    def kill_worker(self, index: int) -> None:
        """SIGKILL worker ``index`` and its executors (its process group), as a crash would."""
        pid = self.worker_pid(index)
        if pid is None:
            raise LauncherError(f"{worker_name(index)} has no PID file in {self.config.run}")
        os.killpg(pid, signal.SIGKILL)

    def parts(self, cores: int = 1, memory: str = "1g") -> list[Part]:
        """The master, then each worker (``cores`` and ``memory`` each), as the launcher runs parts."""
        spark_class = str(SPARK_HOME / "bin" / "spark-class")

        def master(config: StackConfig) -> list[str]:
            return [
                *(spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"),
                *("--port", str(self.ports["SPARK_MASTER_PORT"])),
                *("--webui-port", str(self.ports["SPARK_MASTER_WEBUI_PORT"])),
            ]

        def master_ready(config: StackConfig) -> bool:
            return http_body(f"{self.webui_url}/json/", timeout=2)[0] == 200

        def worker(index: int) -> Part:
            work_dir = self.work_dir(index)

            def command(config: StackConfig) -> list[str]:
                work_dir.mkdir(parents=True, exist_ok=True)
                return [
                    *(spark_class, "org.apache.spark.deploy.worker.Worker", self.master_url, "--host", "127.0.0.1"),
                    *("--port", str(self.ports[f"SPARK_WORKER_{index}_PORT"])),
                    *("--webui-port", str(self.ports[f"SPARK_WORKER_{index}_WEBUI_PORT"])),
                    *("--cores", str(cores), "--memory", memory, "--work-dir", str(work_dir)),
                ]

            # Ready once the master counts it: only then does it get executors.
            return Part(
                worker_name(index), command=command, ready=lambda _: self.worker_state(index) == "ALIVE", env=daemon_env
            )

        return [
            Part(MASTER, command=master, ready=master_ready, env=daemon_env),
            *(worker(index) for index in self.workers),
        ]


def daemon_env(config: StackConfig) -> dict[str, str]:
    spark_tmp = config.home / "tmp"
    spark_tmp.mkdir(parents=True, exist_ok=True)
    return {
        "SPARK_HOME": str(SPARK_HOME),
        # Without it Spark binds the machine's external interface; nothing here leaves loopback.
        # The executors inherit it, and the rest of this environment, from their worker.
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_DIRS": str(spark_tmp),
        # The master's and the workers' own heaps (default 1g each): they only keep track of a few
        # processes. The job's memory is the executors' (spark.executor.memory).
        "SPARK_DAEMON_MEMORY": "256m",
    }


def start_cluster(home: Path, *, workers: int = 2, cores: int = 1, memory: str = "1g") -> SparkCluster:
    """Start a master and ``workers`` workers on free loopback ports; return once the master
    counts every worker ALIVE. On any failure, whatever started is stopped again."""
    home = home.resolve()
    if is_running(home / "run" / f"{MASTER}.pid"):
        raise LauncherError(f"a Spark cluster runs in {home}: `spark-cluster down --home {home}` first")
    names = ["SPARK_MASTER_PORT", "SPARK_MASTER_WEBUI_PORT"]
    names += [f"SPARK_WORKER_{i}_{kind}" for i in range(1, workers + 1) for kind in ("PORT", "WEBUI_PORT")]
    cluster = SparkCluster(home, dict(zip(names, free_ports(len(names)), strict=True)))
    for folder in (cluster.config.logs, cluster.config.run):
        folder.mkdir(parents=True, exist_ok=True)
    write_private(
        home / ENV_FILE,
        f"SPARK_MASTER_URL={cluster.master_url}\nSPARK_MASTER_WEBUI_URL={cluster.webui_url}\n"
        + "".join(f"{name}={port}\n" for name, port in cluster.ports.items()),
    )
    for part in cluster.parts(cores, memory):
        failure = wait_ready(cluster.config, part, launch(cluster.config, part))
        if failure is not None:
            tail = log_tail(cluster.config, part)
            stop_cluster(home)
            raise LauncherError(f"{part.name} {failure}\n  {tail}")
    return cluster


def stop_cluster(home: Path) -> list[str]:
    """Stop the workers (with their executors), then the master, by PID; the names it stopped."""
    cluster = SparkCluster.read(home)
    if not cluster.ports:
        return []
    return [part.name for part in reversed(cluster.parts()) if stop_part(cluster.config, part)]


@contextlib.contextmanager
def spark_cluster(
    home: Path | None = None, *, workers: int = 2, cores: int = 1, memory: str = "1g"
) -> Iterator[SparkCluster]:
    """A cluster for the length of the block, stopped on the way out whatever happens; without
    ``home`` in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="liftbit-spark-")) if home is None else home
    try:
        yield start_cluster(folder, workers=workers, cores=cores, memory=memory)
    finally:
        stop_cluster(folder)
        if home is None:
            shutil.rmtree(folder, ignore_errors=True)
