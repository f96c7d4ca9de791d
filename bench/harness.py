"""What the benchmarks share: a throw-away stack, its parts' PIDs, what /proc says about them, the
machine they ran on, and the tables they print and write.

    with throwaway_stack({"RECONCILE_INTERVAL_SECONDS": "0"}) as stack:
        stack.url, stack.env["DATABASE_URL"], stack.pid("files_ms")
        memory, cpu = tree_usage(stack.pids(["files_ms", "nginx"]))

The stack is the launcher's (scripts.stack: `up --home DIR --port-base auto`, `down --home DIR`),
the same as `make up`, on free ports in a folder of its own.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from scripts.stack.info import StackInfo
from scripts.stack.throwaway import throwaway_stack as launcher_throwaway_stack

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MiB = 1024 * 1024
GiB = 1024 * MiB

console = Console() if sys.stdout.isatty() else Console(width=150)


def log(message: str) -> None:
    console.print(f"[dim]{datetime.now().strftime('%H:%M:%S')}[/] {message}", highlight=False)


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0…1): a value that was measured, never an interpolation."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --------------------------------------------------------------------------- the stack


@contextlib.contextmanager
def throwaway_stack(
    settings: Mapping[str, str] | None = None,
    *,
    home: Path | None = None,
    keep_running: bool = False,
    keep_folder: bool = False,
) -> Iterator[StackInfo]:
    """The launcher's throw-away stack, logging here; a stack already running in ``home`` is reused."""
    with launcher_throwaway_stack(
        settings, home=home, reuse_running=home is not None, keep_running=keep_running, keep_folder=keep_folder, log=log
    ) as stack:
        yield stack


def register_user(url: str, prefix: str = "bench") -> tuple[str, str]:
    """A new account through the public API, logged in: its name and bearer token."""
    username, password = f"{prefix}{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with httpx.Client(base_url=url, timeout=30) as client:
        created = client.post("/users", json={"username": username, "password": password})
        if created.status_code != 201:
            raise RuntimeError(f"registering failed: {created.status_code} {created.text}")
        token = client.post("/auth/token", data={"username": username, "password": password})
        if token.status_code != 200:
            raise RuntimeError(f"login failed: {token.status_code} {token.text}")
    return username, str(token.json()["access_token"])


# --------------------------------------------------------------------------- /proc


def children_map() -> dict[int, list[int]]:
    """Each PID's children, from the parent links in /proc/*/stat (one scan)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children[ppid].append(int(entry.name))
    return children


def process_tree(root: int, children: Mapping[int, list[int]] | None = None, apart: Collection[int] = ()) -> list[int]:
    """``root`` and all its descendants but the trees of ``apart`` (pass ``children`` to reuse one
    scan of /proc). Every part is the supervisor's child: measured apart, or it counts twice."""
    children = children_map() if children is None else children
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(child for child in children.get(pid, []) if child not in apart)
    return tree


def process_trees(roots: Mapping[str, int], children: Mapping[int, list[int]] | None = None) -> dict[str, list[int]]:
    """Each named root's tree, none holding another's."""
    children = children_map() if children is None else children
    pids = set(roots.values())
    return {name: process_tree(pid, children, pids - {pid}) for name, pid in roots.items()}


def _proc_bytes(path: str, label: bytes) -> int:
    """A ``<label> <n> kB`` line of a /proc file, in bytes; 0 when the process is gone."""
    try:
        with open(path, "rb") as lines:
            for line in lines:
                if line.startswith(label):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_bytes(pid: int) -> int:
    """VmRSS of one process; 0 when it is gone."""
    return _proc_bytes(f"/proc/{pid}/status", b"VmRSS:")


def cpu_seconds(pid: int) -> float:
    """CPU seconds of one process (all its threads) and of its children that have exited and been
    waited for (utime + stime + cutime + cstime): Postgres backends, nginx workers and Spark's Python
    workers come and go. 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def pss_bytes(pid: int) -> int:
    """Proportional set size of one process: its private pages, plus each shared page divided by
    the number of processes mapping it; 0 when it is gone."""
    return _proc_bytes(f"/proc/{pid}/smaps_rollup", b"Pss:")


def trees_cpu(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree, live or reaped (a live process's time is
    not yet in its parent's cutime, so nothing counts twice)."""
    return {name: sum(cpu_seconds(pid) for pid in tree) for name, tree in process_trees(roots).items()}


def tree_usage(roots: Mapping[str, int]) -> tuple[dict[str, int], dict[str, float]]:
    """Memory (PSS bytes) and CPU seconds of each named process tree, from one scan of /proc.
    PSS, not RSS: summed over a tree, RSS counts a shared page once per process that touched it,
    so Postgres's shared buffers would seem to grow with every backend that reads them."""
    trees = process_trees(roots)
    memory = {name: sum(pss_bytes(pid) for pid in tree) for name, tree in trees.items()}
    cpu = {name: sum(cpu_seconds(pid) for pid in tree) for name, tree in trees.items()}
    return memory, cpu


# --------------------------------------------------------------------------- the machine


def _command_output(*command: str) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    output = (result.stdout + result.stderr).strip()
    return output.splitlines()[0] if output else ""


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _first_field(path: str, prefix: str, separator: str) -> str | None:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(separator, 1)[1].strip()
    return None


def machine_info(packages: Iterable[str] = ("boto3", "httpx", "uvicorn")) -> dict[str, str]:
    """The machine, the software measured and the load average, for a results file."""
    memory = _first_field("/proc/meminfo", "MemTotal:", ":")
    os_release = _first_field("/etc/os-release", "PRETTY_NAME=", "=")
    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or "weed"
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    commit = _command_output("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
    dirty = _command_output("git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no")
    names = list(packages)
    return {
        "CPU": _first_field("/proc/cpuinfo", "model name", ":") or "unknown",
        "cores": str(os.cpu_count()),
        "RAM": f"{int(memory.split()[0]) / 1024**2:.1f} GiB" if memory else "unknown",
        "kernel": platform.release(),
        "OS": os_release.strip('"') if os_release else "unknown",
        "Python": platform.python_version(),
        "nginx": _command_output(nginx, "-v").removeprefix("nginx version: "),
        "SeaweedFS": _command_output(weed, "version").replace("version ", ""),
        " / ".join(names): " / ".join(_package_version(p) for p in names),
        "git": f"{commit}{' (with uncommitted changes)' if dirty else ''}",
        "load average at start (1/5/15 min)": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


# --------------------------------------------------------------------------- tables


@dataclass
class Section:
    """One table with its notes, printed to the terminal and written as Markdown."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def show(self) -> None:
        table = Table(title=self.title, title_justify="left", show_lines=False)
        for index, column in enumerate(self.columns):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in self.rows:
            table.add_row(*row)
        console.print(table)
        for note in self.notes:
            console.print(f"  {note}", highlight=False)
        console.print()

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("| " + " | ".join(["---"] + ["---:"] * (len(self.columns) - 1)) + " |")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def verdict(met: bool) -> str:
    return "yes" if met else "NO"


def write_results(
    path: Path, title: str, intro: str, machine: Mapping[str, str], sections: Iterable[Section], parameters: str
) -> None:
    """A results file: what wrote it and when, the parameters, the machine, then the tables."""
    lines = [
        f"# {title}",
        "",
        f"{intro} Written on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        f"Parameters: {parameters}",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in machine.items()),
        "",
        "## Results",
        "",
    ]
    lines += [section.markdown() for section in sections]
    path.write_text("\n".join(lines))
