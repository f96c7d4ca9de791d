"""Two copies each of files_ms, storage_ms and metadata_ms (FILES_REPLICAS=2 …) serve as one: a
token revoked through one copy is refused by every copy within a second, the outbox still
publishes each event once, in order, and a resumable upload is written by one request at a time
whichever copy each request reaches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from liftbit_common.rules import MiB
from scripts.stack.config import REPLICA_SETTINGS
from scripts.stack.info import StackInfo
from scripts.stack.throwaway import throwaway_stack
from tests.support.events import EventLog
from tests.support.http import content
from tests.support.stack import TEST_STACK_SETTINGS
from tests.support.tus import TUS, create, cut_patch, patch
from tests.support.users import User, register

REPLICAS = 2


@pytest.fixture(scope="module")
def replicated() -> Iterator[StackInfo]:
    # TOKEN_CACHE_SECONDS at its default (1 s): what the revocation bound rests on.
    settings = {k: v for k, v in TEST_STACK_SETTINGS.items() if k != "TOKEN_CACHE_SECONDS"}
    with throwaway_stack(settings | dict.fromkeys(REPLICA_SETTINGS.values(), str(REPLICAS))) as info:
        yield info


def fresh_connection_statuses(stack: StackInfo, user: User, count: int) -> list[int]:
    """``count`` requests, each on a new connection, so that the kernel spreads them over the copies."""

    def one(_: int) -> int:
        with httpx.Client(base_url=stack.url, timeout=30) as client:
            return client.get(f"/users/{user.name}/files?limit=1", headers=user.auth).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def is_uvicorn_worker(pid: int) -> bool:
    # uvicorn starts its workers through multiprocessing's spawn (beside them: its resource tracker).
    return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_each_replicated_service_runs_its_copies(replicated: StackInfo) -> None:
    workers = {part: sum(map(is_uvicorn_worker, replicated.children(part))) for part in REPLICA_SETTINGS}
    assert workers == dict.fromkeys(REPLICA_SETTINGS, REPLICAS)
    with httpx.Client(base_url=replicated.url, timeout=30) as client:
        assert client.get("/health").status_code == 200


def test_a_token_revoked_on_one_copy_is_refused_by_every_copy_within_a_second(replicated: StackInfo) -> None:
    with httpx.Client(base_url=replicated.url, timeout=30) as client:
        user = register(client)
        # Every copy caches the token (40 connections spread over 2 copies miss one with odds 2^-39).
        assert fresh_connection_statuses(replicated, user, 40) == [200] * 40
        assert client.post("/auth/logout", headers=user.auth).status_code == 204
    time.sleep(1.1)
    assert fresh_connection_statuses(replicated, user, 40) == [401] * 40


def test_the_outbox_publishes_each_event_once_in_order_with_two_metadata_copies(replicated: StackInfo) -> None:
    events = EventLog(replicated.env["KAFKA_BOOTSTRAP_SERVERS"], replicated.env["KAFKA_TOPIC"])
    names = [f"f{index:02d}.txt" for index in range(30)]
    with httpx.Client(base_url=replicated.url, timeout=30) as client:
        user = register(client)

        def upload(name: str) -> int:
            with httpx.Client(base_url=replicated.url, timeout=30) as own:
                return own.put(f"/users/{user.name}/files/{name}", content=name.encode(), headers=user.auth).status_code

        for name in names:  # one after another: the order the events must keep
            assert upload(name) == 201
    found = events.wait_for(lambda e: e["owner"] == user.name, len(names) + 1, timeout=30, quiet_seconds=3)
    assert [(e["type"], e["path"]) for e in found] == [("upload", name) for name in names]
    assert len({e["event_id"] for e in found}) == len(names)


def test_after_a_cut_connection_every_copy_reports_the_final_offset(replicated: StackInfo) -> None:
    # The cut request crossed a part boundary (8 MiB): after the cut its copy still stores the
    # last MiB and records it. A HEAD on the other copy must wait for that, not report 8 MiB.
    data = content(17 * MiB, seed=11)
    with httpx.Client(base_url=replicated.url, timeout=60) as client:
        user = register(client)
        location = create(client, user, "cut.bin", len(data))

        def offset_on_a_fresh_connection(_: int) -> int:
            with httpx.Client(timeout=60) as own:
                head = own.head(location, headers=user.auth | TUS)
                assert head.status_code == 200, head.text
                return int(head.headers["upload-offset"])

        cut_patch(replicated, user, location, 0, data[: 9 * MiB])
        with ThreadPoolExecutor(8) as pool:
            offsets = list(pool.map(offset_on_a_fresh_connection, range(8)))
        time.sleep(1)
        final = offset_on_a_fresh_connection(0)
        assert offsets == [final] * 8, (offsets, final)
        resumed = patch(client, user, location, final, data[final:])
        assert resumed.status_code == 204, resumed.text
        downloaded = client.get(f"/users/{user.name}/files/cut.bin", headers=user.auth)
        assert downloaded.content == data
