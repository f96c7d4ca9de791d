"""File-tree benchmark: one user with 1k, 10k and 100k files in 1,000 folders, through nginx.

    python -m bench.tree [--requests 200] [--home DIR]

(from the repository root; `make bench-tree` runs it with the defaults.) Starts its own stack
(bench/harness.py), or uses the one running in --home. For each scale it registers a user through
the API, then seeds the rows straight into Postgres with SQL (1,000 top-level folders holding the
files, plus one more folder of 10,000 files to move and purge; uploading 100k files through HTTP
would measure uploads, which bench/transfer.py does). Then, through nginx with one keep-alive client:

- list a folder of N/1,000 files, and the top level (1,000 folders with item counts and sizes),
  --requests times each: p50 / p99;
- search by name (`?q=`, a substring matching ~10 files whatever N) and by folder (`?prefix=`);
- move the folder of 10,000 files (one request), then trash it and purge the trash (one each).

Goals (issue 10): list and search p99 under 50 ms at 100k; every figure flat in N (the 100k figure
within 2x the 1k one); moving 10,000 files under 1 s. Printed, and written to bench/RESULTS-tree.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import psycopg
import typer

from bench.harness import (
    ROOT,
    Section,
    console,
    log,
    machine_info,
    percentile,
    register_user,
    throwaway_stack,
    verdict,
    write_results,
)

SCALES = (1_000, 10_000, 100_000)
FOLDERS = 1_000
MOVED_FILES = 10_000
LATENCY_GOAL_MS = 50.0
MOVE_GOAL_S = 1.0
FLAT_FACTOR = 2.0
STACK_SETTINGS = {"RECONCILE_INTERVAL_SECONDS": "0", "LOG_LEVEL": "WARNING"}

app = typer.Typer(add_completion=False, help=__doc__)

# Folders f0000…f0999 at the top, each with N/1000 files report-NNNNNN.txt (a global number); one
# more folder move-me with 10,000 files. Ids, paths and names as the API would write them.
SEED_FOLDERS = """
INSERT INTO nodes (owner_id, type, name, path, search_name, created_at, updated_at)
SELECT %(owner)s, 'folder', name, name, name, now(), now()
FROM (SELECT 'f' || lpad(g::text, 4, '0') AS name FROM generate_series(0, %(folders)s - 1) g) folders
UNION ALL SELECT %(owner)s, 'folder', 'move-me', 'move-me', 'move-me', now(), now()
"""
SEED_FILES = """
INSERT INTO nodes (owner_id, parent_id, type, name, path, search_name, created_at, updated_at,
                   version, object_key, size, content_type, sha256)
SELECT f.owner_id, f.id, 'file', n.name, f.path || '/' || n.name, n.name, now(), now(),
       1, 'bench-' || f.id || '-' || n.i, 1024, 'text/plain', repeat('0', 64)
FROM nodes f
CROSS JOIN LATERAL (
    SELECT g AS i,
           CASE WHEN f.name = 'move-me' THEN 'm-' || lpad(g::text, 5, '0') || '.txt'
                ELSE 'report-' || lpad((substr(f.name, 2)::int * %(per_folder)s + g)::text, 6, '0') || '.txt'
           END AS name
    FROM generate_series(0, CASE WHEN f.name = 'move-me' THEN %(moved)s ELSE %(per_folder)s END - 1) g
) n
WHERE f.owner_id = %(owner)s AND f.type = 'folder'
"""
COUNT_QUOTA = """
UPDATE users SET used_bytes = (SELECT coalesce(sum(size), 0) FROM nodes WHERE owner_id = %(owner)s)
WHERE id = %(owner)s
"""


@dataclass
class ScaleResult:
    files: int
    seed_s: float
    list_folder: list[float]
    list_top: list[float]
    search: list[float]
    prefix: list[float]
    move_s: float
    trash_s: float
    purge_s: float


def seed(database_url: str, username: str, files: int) -> float:
    began = time.monotonic()
    with psycopg.connect(database_url) as db:
        row = db.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()
        assert row is not None
        params = {"owner": row[0], "folders": FOLDERS, "per_folder": files // FOLDERS, "moved": MOVED_FILES}
        db.execute(SEED_FOLDERS, params)
        db.execute(SEED_FILES, params)
        db.execute(COUNT_QUOTA, params)
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute("ANALYZE nodes")  # as autovacuum would soon after such a load
    return time.monotonic() - began


def timed(client: httpx.Client, method: str, url: str, **kwargs: object) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - began
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return elapsed, response


def latencies(
    client: httpx.Client, count: int, url_for: Callable[[int], str], check: Callable[[httpx.Response], None]
) -> list[float]:
    timed(client, "GET", url_for(0))  # warm: token cache, connection, plans
    found = []
    for i in range(count):
        seconds, response = timed(client, "GET", url_for(i))
        check(response)
        found.append(seconds * 1000)
    return found


def run_scale(url: str, database_url: str, files: int, requests: int) -> ScaleResult:
    username, token = register_user(url, prefix="tree")
    log(f"{files:,} files: seeding …")
    seed_s = seed(database_url, username, files)
    per_folder = files // FOLDERS
    log(f"{files:,} files: seeded in {seed_s:.1f} s; measuring …")
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/users/{username}"
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:

        def items(expected: int) -> Callable[[httpx.Response], None]:
            def check(response: httpx.Response) -> None:
                got = len(response.json()["items"])
                if got != expected:
                    raise RuntimeError(f"{response.url}: {got} items, expected {expected}")

            return check

        list_folder = latencies(
            client, requests, lambda i: f"{base}/folders/f{i * 7 % FOLDERS:04d}?limit=1000", items(per_folder)
        )
        list_top = latencies(client, requests, lambda i: f"{base}/folders?limit=100", items(100))

        # The first five of the six digits: a substring of exactly 10 names at every scale.
        search = latencies(
            client, requests, lambda i: f"{base}/files?q=REPORT-{i * 7919 % (files // 10):05d}&limit=100", items(10)
        )
        prefix = latencies(
            client, requests, lambda i: f"{base}/files?prefix=f{i * 13 % FOLDERS:04d}&limit=1000", items(per_folder)
        )
        move_s, moved = timed(client, "POST", f"{base}/move", json={"from": "move-me", "to": "moved/move-me"})
        if moved.json()["total_size"] != MOVED_FILES * 1024:
            raise RuntimeError(f"the moved folder holds {moved.json()['total_size']} bytes")
        trash_s, _ = timed(client, "DELETE", f"{base}/folders/moved/move-me")
        purge_s, _ = timed(client, "DELETE", f"{base}/trash")
        used = client.get(base).json()["used_bytes"]
        if used != files * 1024:
            raise RuntimeError(f"used_bytes {used} after the purge, expected {files * 1024}")
    return ScaleResult(files, seed_s, list_folder, list_top, search, prefix, move_s, trash_s, purge_s)


def report(results: list[ScaleResult]) -> list[Section]:
    small, large = results[0], results[-1]
    rows: list[list[str]] = []

    def latency_row(name: str, pick: Callable[[ScaleResult], list[float]], goal: bool) -> None:
        p99s = [percentile(pick(r), 0.99) for r in results]
        figures = [f"{percentile(pick(r), 0.5):.1f} / {p:.1f}" for r, p in zip(results, p99s, strict=True)]
        flat = p99s[-1] <= FLAT_FACTOR * p99s[0]
        met = flat and (not goal or p99s[-1] < LATENCY_GOAL_MS)
        goal_text = f"p99 < {LATENCY_GOAL_MS:.0f} ms at 100k; " if goal else ""
        rows.append([name, *figures, f"{goal_text}100k ≤ {FLAT_FACTOR:.0f}× 1k", verdict(met)])

    def once_row(name: str, pick: Callable[[ScaleResult], float], limit: float | None) -> None:
        values = [pick(r) for r in results]
        met = values[-1] <= FLAT_FACTOR * max(values[0], 0.001) and (limit is None or max(values) < limit)
        goal_text = f"< {limit:.0f} s; " if limit is not None else ""
        rows.append(
            [name, *(f"{v * 1000:.0f} ms" for v in values), f"{goal_text}100k ≤ {FLAT_FACTOR:.0f}× 1k", verdict(met)]
        )

    latency_row("list a folder of N/1,000 files, p50 / p99 (ms)", lambda r: r.list_folder, True)
    latency_row(
        "list the top level (100 of 1,000 folders, with counts and sizes), p50 / p99 (ms)", lambda r: r.list_top, True
    )
    latency_row("search by name ?q= (~10 hits), p50 / p99 (ms)", lambda r: r.search, True)
    latency_row("everything under a folder ?prefix=, p50 / p99 (ms)", lambda r: r.prefix, False)
    once_row(f"move a folder of {MOVED_FILES:,} files", lambda r: r.move_s, MOVE_GOAL_S)
    once_row(f"trash that folder ({MOVED_FILES:,} files)", lambda r: r.trash_s, None)
    once_row(f"purge a trash of {MOVED_FILES:,} files", lambda r: r.purge_s, None)
    section = Section(
        title="File tree, one user, through nginx",
        columns=["measure", *(f"{r.files:,} files" for r in results), "goal", "met"],
        rows=rows,
        notes=[
            f"{len(small.list_folder)} requests per latency figure, one keep-alive client, after one warm-up request",
            f"rows seeded with SQL: {', '.join(f'{r.files:,} + {MOVED_FILES:,} in {r.seed_s:.1f} s' for r in results)}",
            f"the {large.files:,} column: {large.files + MOVED_FILES:,} files, 1,002 folders in the user's namespace",
        ],
    )
    return [section]


@app.command()
def main(
    requests: Annotated[int, typer.Option(min=10, help="Requests per latency figure")] = 200,
    home: Annotated[Path | None, typer.Option(help="Use the stack running in this LIFTBIT_HOME")] = None,
    results: Annotated[Path, typer.Option(help="Where the Markdown report goes")] = ROOT / "bench" / "RESULTS-tree.md",
    write: Annotated[bool, typer.Option(help="Write the report (--no-write: print only)")] = True,
) -> None:
    machine = machine_info(("httpx", "uvicorn", "sqlalchemy"))
    with throwaway_stack(STACK_SETTINGS, home=home) as stack:
        measured = [run_scale(stack.url, stack.env["DATABASE_URL"], files, requests) for files in SCALES]
    sections = report(measured)
    for section in sections:
        section.show()
    if write:
        write_results(
            results,
            "File-tree benchmark results",
            "Written by `python -m bench.tree` (`make bench-tree`).",
            machine,
            sections,
            f"--requests {requests}; scales {', '.join(f'{s:,}' for s in SCALES)} files in {FOLDERS:,} folders",
        )
        console.print(f"written to {results}")


if __name__ == "__main__":
    app()
