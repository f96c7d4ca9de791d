"""Share-link benchmark: a download through a link against an owner's download of the same file,
in one run, and the delay from a link download to its row in /files/{id}/stats.

    python -m bench.links [--rounds 8] [--requests 300] [--home DIR]

(from the repository root; `make bench-links` runs it with the defaults.) Starts its own stack
(bench/harness.py), or uses the one running in --home. Through nginx, with one keep-alive httpx
client streaming each body to nowhere (the same client code on both sides):

- throughput: a 256 MiB file, downloaded --rounds times by its owner and --rounds times through a
  link, alternating (owner, link, owner, link …) so that both meet the same machine; MiB/s each;
- latency: a 4 KiB file, --requests downloads each way, alternating: p50 and p99;
- stats delay: --samples link downloads, each followed by polling /files/{id}/stats every 50 ms
  until it counts it: p50 and p99 against the goal of the trigger interval + 2 s.

Goals (issue 11): link throughput ≥ 0.9× the owner's, link p99 ≤ owner p99 / 0.9; stats delay
p99 ≤ ANALYTICS_TRIGGER + 2 s. Printed, and written to bench/RESULTS-links.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import httpx
import typer

from bench.harness import (
    ROOT,
    MiB,
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

LARGE_BYTES = 256 * MiB
SMALL_BYTES = 4096
RATIO_GOAL = 0.9
TRIGGER_SECONDS = 1.0
STACK_SETTINGS = {"RECONCILE_INTERVAL_SECONDS": "0", "LOG_LEVEL": "WARNING", "ANALYTICS_TRIGGER": "1 second"}

app = typer.Typer(add_completion=False, help=__doc__)


def upload(client: httpx.Client, user: str, auth: dict[str, str], path: str, size: int) -> str:
    """A file of ``size`` bytes (streamed from a generator, never held whole); its id."""

    def body() -> Iterator[bytes]:
        block = bytes(range(256)) * 4096  # 1 MiB
        for start in range(0, size, len(block)):
            yield block[: min(len(block), size - start)]

    answer = client.put(f"/users/{user}/files/{path}", content=body(), headers=auth)
    answer.raise_for_status()
    return str(answer.json()["id"])


def timed_download(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    received = 0
    with client.stream("GET", url, headers=headers) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_raw(1024 * 1024):
            received += len(chunk)
    return time.perf_counter() - started, received


def alternate(rounds: int, owner: Callable[[], float], link: Callable[[], float]) -> tuple[list[float], list[float]]:
    owners, links = [], []
    for _ in range(rounds):
        owners.append(owner())
        links.append(link())
    return owners, links


def stats_delays(client: httpx.Client, auth: dict[str, str], node: str, link_url: str, samples: int) -> list[float]:
    delays = []
    for _ in range(samples):
        before = client.get(f"/files/{node}/stats", headers=auth).json()["downloads"]
        client.get(link_url).raise_for_status()
        downloaded = time.perf_counter()
        while client.get(f"/files/{node}/stats", headers=auth).json()["downloads"] <= before:
            if time.perf_counter() - downloaded > 60:
                raise RuntimeError("a link download did not reach /files/{id}/stats within 60 s")
            time.sleep(0.05)
        delays.append(time.perf_counter() - downloaded)
    return delays


@app.command()
def main(
    rounds: Annotated[int, typer.Option(min=2, help="Large downloads each way")] = 8,
    requests: Annotated[int, typer.Option(min=20, help="Small downloads each way")] = 300,
    samples: Annotated[int, typer.Option(min=5, help="Link downloads timed into the stats")] = 20,
    home: Annotated[Path | None, typer.Option(help="Use the stack running in this LIFTBIT_HOME")] = None,
    results: Annotated[Path, typer.Option(help="Where the Markdown report goes")] = ROOT / "bench" / "RESULTS-links.md",
    write: Annotated[bool, typer.Option(help="Write the report (--no-write: print only)")] = True,
) -> None:
    machine = machine_info(("httpx", "uvicorn"))
    with throwaway_stack(STACK_SETTINGS, home=home) as stack, httpx.Client(base_url=stack.url, timeout=120) as client:
        user, token = register_user(stack.url, "links")
        auth = {"Authorization": f"Bearer {token}"}
        large = upload(client, user, auth, "large.bin", LARGE_BYTES)
        small = upload(client, user, auth, "small.bin", SMALL_BYTES)
        # The link's url is its page; the bytes are under /download.
        large_link = client.post(f"/files/{large}/links", json={}, headers=auth).json()["url"] + "/download"
        small_link = client.post(f"/files/{small}/links", json={}, headers=auth).json()["url"] + "/download"

        log(f"throughput: {rounds} × {LARGE_BYTES // MiB} MiB each way")
        owner_s, link_s = alternate(
            rounds,
            lambda: timed_download(client, f"/users/{user}/files/large.bin", auth)[0],
            lambda: timed_download(client, large_link, {})[0],
        )
        log(f"latency: {requests} × 4 KiB each way")
        owner_ms, link_ms = (
            [s * 1000 for s in series]
            for series in alternate(
                requests,
                lambda: timed_download(client, f"/users/{user}/files/small.bin", auth)[0],
                lambda: timed_download(client, small_link, {})[0],
            )
        )
        log(f"stats delay: {samples} link downloads")
        delays = stats_delays(client, auth, small, small_link, samples)

    owner_mib_s = LARGE_BYTES / MiB / percentile(owner_s, 0.5)
    link_mib_s = LARGE_BYTES / MiB / percentile(link_s, 0.5)
    ratio = link_mib_s / owner_mib_s
    p99_ratio = percentile(owner_ms, 0.99) / percentile(link_ms, 0.99)
    delay_goal = TRIGGER_SECONDS + 2
    sections = [
        Section(
            "Link download vs owner download (same file, same client, alternating)",
            ["figure", "owner", "link", "link ÷ owner", "goal", "met"],
            [
                [
                    f"{LARGE_BYTES // MiB} MiB, median MiB/s",
                    f"{owner_mib_s:.0f}",
                    f"{link_mib_s:.0f}",
                    f"{ratio:.2f}",
                    f"≥ {RATIO_GOAL}",
                    verdict(ratio >= RATIO_GOAL),
                ],
                [
                    "4 KiB, p50 ms",
                    f"{percentile(owner_ms, 0.5):.1f}",
                    f"{percentile(link_ms, 0.5):.1f}",
                    f"{percentile(link_ms, 0.5) / percentile(owner_ms, 0.5):.2f}",
                    "",
                    "",
                ],
                [
                    "4 KiB, p99 ms",
                    f"{percentile(owner_ms, 0.99):.1f}",
                    f"{percentile(link_ms, 0.99):.1f}",
                    f"{percentile(link_ms, 0.99) / percentile(owner_ms, 0.99):.2f}",
                    f"≤ {1 / RATIO_GOAL:.2f}",
                    verdict(p99_ratio >= RATIO_GOAL),
                ],
            ],
            [
                f"{rounds} large and {requests} small downloads each way; a link download resolves the token "
                "(one metadata call: hash lookup, state) and records the download (one call: the count and the "
                "event in one transaction) where an owner's checks the bearer token (cached) and records the event.",
            ],
        ),
        Section(
            "Link download → its row in /files/{id}/stats",
            ["figure", "seconds", "goal", "met"],
            [
                ["p50", f"{percentile(delays, 0.5):.2f}", "", ""],
                [
                    "p99",
                    f"{percentile(delays, 0.99):.2f}",
                    f"≤ {delay_goal:.0f} (trigger {TRIGGER_SECONDS:.0f} s + 2 s)",
                    verdict(percentile(delays, 0.99) <= delay_goal),
                ],
            ],
            [f"{samples} downloads, each polled for every 50 ms until the stats count it."],
        ),
    ]
    for section in sections:
        section.show()
    if write:
        write_results(
            results,
            "Share-link benchmark results",
            "Written by `python -m bench.links` (`make bench-links`).",
            machine,
            sections,
            f"--rounds {rounds} --requests {requests} --samples {samples}; ANALYTICS_TRIGGER 1 second",
        )
        console.print(f"written to {results}")


if __name__ == "__main__":
    app()
