"""Password-hashing flood: another user's downloads and uploads while strangers register or log in.

    python -m bench.flood [--flooders 48] [--seconds 20]

(from the repository root; `make bench-flood` runs it with the defaults.) Starts its own stack
(bench/harness.py), registers a victim with a 256 KiB file, then runs three phases of --seconds
each: quiet (the victim alone), a registration flood and a login flood (--flooders concurrent
clients, each from its own loopback address 127.0.0.N, so that per-address limits alone cannot
stop them: what protects the victim is the bound on argon2). Throughout, the victim downloads
and uploads in a loop. Prints the victim's p50/p99 per phase beside the goal, and the flood's
answers by status; also written to bench/RESULTS-flood.md.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
import typer

from bench.harness import (
    ROOT,
    Section,
    console,
    machine_info,
    percentile,
    register_user,
    throwaway_stack,
    verdict,
    write_results,
)

FILE_BYTES = 256 * 1024
PASSWORD = "correct horse battery"
# The victim's latency under a flood may grow this much over the quiet phase's, and no more.
GOAL_P50_FACTOR = 2.0
GOAL_P99_SECONDS = 1.0

app = typer.Typer(add_completion=False, help=__doc__)


@dataclass
class Phase:
    name: str
    downloads: list[float] = field(default_factory=list)
    uploads: list[float] = field(default_factory=list)
    victim_errors: Counter[int] = field(default_factory=Counter)
    flood: Counter[int] = field(default_factory=Counter)


async def victim(url: str, name: str, token: str, seconds: float) -> Phase:
    """The victim's transfers for ``seconds``, timed from its own side."""
    samples = Phase("victim")
    headers = {"Authorization": f"Bearer {token}"}
    body = b"v" * FILE_BYTES
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        while time.monotonic() < deadline:
            for method, timings in (("GET", samples.downloads), ("PUT", samples.uploads)):
                started = time.perf_counter()
                content = body if method == "PUT" else None
                response = await client.request(method, f"/users/{name}/files/victim.bin", content=content)
                timings.append(time.perf_counter() - started)
                if response.status_code >= 400:
                    samples.victim_errors[response.status_code] += 1
    return samples


def victim_process(url: str, name: str, token: str, seconds: float) -> Phase:
    return asyncio.run(victim(url, name, token, seconds))


async def flooder(url: str, address: str, kind: str, login_name: str, phase: Phase, stop: asyncio.Event) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=60) as client:
        while not stop.is_set():
            try:
                if kind == "register":
                    response = await client.post(
                        "/users", json={"username": f"flood{uuid.uuid4().hex[:12]}", "password": PASSWORD}
                    )
                else:
                    response = await client.post("/auth/token", data={"username": login_name, "password": PASSWORD})
            except httpx.HTTPError:
                phase.flood[0] += 1
                continue
            phase.flood[response.status_code] += 1
            if response.status_code in (429, 503):
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def run_phase(url: str, phase: Phase, victim_user: tuple[str, str], flooders: int, seconds: float) -> None:
    """The victim runs in a process of its own (it is another person's machine), so that what it
    measures is the platform, not this process's event loop busy with 48 flooding clients: in one
    loop, nginx served every victim download within 0.4 s while the victim timed p99 3–5 s."""
    stop = asyncio.Event()
    login_name = f"floodlogin{uuid.uuid4().hex[:8]}"
    if phase.name == "login flood":
        async with httpx.AsyncClient(base_url=url) as client:
            created = await client.post("/users", json={"username": login_name, "password": PASSWORD})
            created.raise_for_status()
    kind = {"registration flood": "register", "login flood": "login"}.get(phase.name, "")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        measured = asyncio.get_running_loop().run_in_executor(pool, victim_process, url, *victim_user, seconds)
        tasks = [
            asyncio.create_task(flooder(url, f"127.0.0.{10 + n}", kind, login_name, phase, stop))
            for n in range(flooders if kind else 0)
        ]
        samples = await measured
        stop.set()
        await asyncio.gather(*tasks)
    phase.downloads, phase.uploads, phase.victim_errors = samples.downloads, samples.uploads, samples.victim_errors


def milliseconds(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.0f}"


def report(phases: list[Phase]) -> Section:
    quiet = phases[0]
    rows = []
    for phase in phases:
        row = [phase.name]
        met = True
        for samples, reference in ((phase.downloads, quiet.downloads), (phase.uploads, quiet.uploads)):
            p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
            goal_p50 = max(percentile(reference, 0.5) * GOAL_P50_FACTOR, 0.02)
            met = met and p50 <= goal_p50 and p99 <= GOAL_P99_SECONDS
            row += [milliseconds(samples, 0.5), milliseconds(samples, 0.99), f"≤ {goal_p50 * 1000:.0f} / ≤ 1000"]
        row += [
            " ".join(f"{status or 'conn-error'}×{count}" for status, count in sorted(phase.flood.items())) or "-",
            " ".join(f"{s}×{c}" for s, c in sorted(phase.victim_errors.items())) or "0",
            verdict(met),
        ]
        rows.append(row)
    return Section(
        "Victim latency during a password-hashing flood (ms)",
        [
            "phase",
            "download p50",
            "download p99",
            "goal p50 / p99",
            "upload p50",
            "upload p99",
            "goal p50 / p99",
            "flood answers",
            "victim errors",
            "goal met",
        ],
        rows,
        notes=[
            f"victim: one client, in a process of its own, alternating GET and PUT of a {FILE_BYTES // 1024} KiB file; "
            "goal: p50 at most "
            f"{GOAL_P50_FACTOR:g}× the quiet phase's (20 ms floor), p99 at most {GOAL_P99_SECONDS:g} s",
        ],
    )


@app.command()
def main(
    flooders: Annotated[int, typer.Option(min=1, max=200, help="Concurrent flooding clients")] = 48,
    seconds: Annotated[float, typer.Option(min=1, help="Length of each phase")] = 20,
    results: Annotated[Path, typer.Option(help="Where the Markdown report goes")] = ROOT / "bench" / "RESULTS-flood.md",
    write: Annotated[bool, typer.Option(help="Write the report (--no-write: print only)")] = True,
    keep: Annotated[bool, typer.Option(help="Keep the stack's folder (logs) after stopping it")] = False,
) -> None:
    machine = machine_info(("argon2-cffi", "uvicorn"))
    with throwaway_stack({"LOG_LEVEL": "WARNING"}, keep_folder=keep) as stack:
        name, token = register_user(stack.url, "victim")
        httpx.put(
            f"{stack.url}/users/{name}/files/victim.bin",
            content=b"v" * FILE_BYTES,
            headers={"Authorization": f"Bearer {token}"},
        ).raise_for_status()
        phases = [Phase("quiet"), Phase("registration flood"), Phase("login flood")]
        for phase in phases:
            console.print(f"phase: {phase.name} ({seconds:g} s)")
            asyncio.run(run_phase(stack.url, phase, (name, token), flooders, seconds))
    section = report(phases)
    section.show()
    if write:
        write_results(
            results,
            "Password-hashing flood benchmark",
            "Written by `make bench-flood` (`python -m bench.flood`): a victim's transfers through nginx while "
            "other clients register or log in as fast as they are let.",
            machine,
            [section],
            f"{flooders} flooding clients from as many loopback addresses, {seconds:g} s per phase",
        )
        console.print(f"written to {results}")


if __name__ == "__main__":
    app()
