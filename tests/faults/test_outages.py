"""One part down at a time: requests that need it get a quick 503 naming it, /health names it,
requests that do not need it still work, and once it is back everything recovers on its own,
without restarting any other part. Every request is recorded, and afterwards the events on the
topic are exactly those of the requests that were counted: one each after dedup by event_id, in
order per owner, none for the refused ones.

With the broker down every request succeeds (uploads, replaces, downloads by the owner and by a
grantee, deletes): their events wait in the outbox and are published when it returns."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from scripts.stack.info import StackInfo
from scripts.stack.invariants import Action, ActionLog, Kind, check_events, file_path
from tests.support.faults import Faults
from tests.support.users import User, register, unique_name
from tests.support.workload import PASSWORD, Client

MiB = 1024 * 1024
ANSWER_WITHIN_SECONDS = 10.0  # a request that needs a missing part must fail at least this fast
# A server that accepts but never answers costs storage_ms's S3 read timeout (5 s) twice, plus backoff.
FROZEN_ANSWER_WITHIN_SECONDS = 15.0
RECOVERY_SECONDS = 45.0


def big_body(size: int = 12 * MiB) -> bytes:
    """Larger than one part: the multipart path of storage_ms."""
    return hashlib.sha256(uuid.uuid4().bytes).digest() * (size // 32)


@dataclass
class Probe:
    """The requests tried while a part is down, each recorded in the log."""

    client: Client
    owner: User
    grantee: User
    sizes: dict[str, int]  # the owner's files and their sizes, as the successful answers left them

    def upload_named(self, name: str, body: bytes) -> Action:
        action, _ = self.client.send(
            Kind.UPLOAD,
            self.owner.name,
            self.owner.name,
            "PUT",
            file_path(self.owner.name, name),
            token=self.owner.token,
            filename=name,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            content=body,
        )
        if action.ok:
            self.sizes[name] = len(body)
        return action

    def register(self) -> Action:
        name = unique_name("f")
        body = {"username": name, "password": PASSWORD}
        return self.client.send(Kind.REGISTER, name, name, "POST", "/users", json=body)[0]

    def login(self) -> Action:
        form = {"username": self.owner.name, "password": self.owner.password}
        return self.client.send(Kind.LOGIN, self.owner.name, self.owner.name, "POST", "/auth/token", data=form)[0]

    def list(self) -> Action:
        path = f"/users/{self.owner.name}/files"
        return self.client.send(Kind.LIST, self.owner.name, self.owner.name, "GET", path, token=self.owner.token)[0]

    def upload(self) -> Action:
        return self.upload_named(f"new-{uuid.uuid4().hex[:6]}.txt", b"during the outage")

    def upload_large(self) -> Action:
        return self.upload_named(f"new-{uuid.uuid4().hex[:6]}.bin", big_body())

    def replace(self) -> Action:
        return self.upload_named("kept.txt", b"replacement")

    def download(self, name: str = "kept.txt") -> Action:
        return self.client.send(
            Kind.DOWNLOAD,
            self.owner.name,
            self.owner.name,
            "GET",
            file_path(self.owner.name, name),
            token=self.owner.token,
            filename=name,
            size=self.sizes[name],
        )[0]

    def grant(self) -> Action:
        path = f"{file_path(self.owner.name, 'kept.txt')}/permissions/{self.grantee.name}"
        return self.client.send(
            Kind.GRANT,
            self.owner.name,
            self.owner.name,
            "PUT",
            path,
            token=self.owner.token,
            filename="kept.txt",
            grantee=self.grantee.name,
        )[0]

    def grantee_download(self) -> Action:
        return self.client.send(
            Kind.DOWNLOAD,
            self.grantee.name,
            self.owner.name,
            "GET",
            file_path(self.owner.name, "kept.txt"),
            token=self.grantee.token,
            filename="kept.txt",
            size=self.sizes["kept.txt"],
        )[0]

    def delete(self) -> Action:
        action, _ = self.client.send(
            Kind.DELETE,
            self.owner.name,
            self.owner.name,
            "DELETE",
            file_path(self.owner.name, "doomed.txt"),
            token=self.owner.token,
            filename="doomed.txt",
            size=self.sizes["doomed.txt"],
        )
        if action.ok:
            del self.sizes["doomed.txt"]
        return action

    def round_trip(self) -> str | None:
        """Upload, download and list once; None when all succeeded, else what failed."""
        name = f"after-{uuid.uuid4().hex[:6]}.txt"
        # Lazily, in order: a download is only meaningful once its upload has succeeded.
        steps: tuple[Callable[[], Action], ...] = (
            lambda: self.upload_named(name, uuid.uuid4().bytes * 100),
            lambda: self.download(name),
            self.list,
        )
        for step in steps:
            if not (action := step()).ok:
                return action.describe()
        return None


@dataclass(frozen=True)
class Outage:
    part: str
    needs_it: tuple[str, ...]  # Probe methods that must answer 503 naming the part
    still_work: tuple[str, ...]  # Probe methods that must still succeed
    health_key: str  # the check in /health that must not be "ok"


# In this order: the grantee downloads after the grant, which follows the replace.
ALL_PROBES = (
    "register",
    "login",
    "list",
    "upload",
    "upload_large",
    "replace",
    "download",
    "grant",
    "grantee_download",
    "delete",
)
NO_BYTES = ("register", "login", "list", "grant", "delete")
BYTES = ("upload", "upload_large", "replace", "download", "grantee_download")
OUTAGES = [
    Outage("broker", needs_it=(), still_work=ALL_PROBES, health_key="broker"),
    Outage("s3", needs_it=BYTES, still_work=NO_BYTES, health_key="s3"),
    Outage("postgres", needs_it=ALL_PROBES, still_work=(), health_key="postgres"),
    Outage("storage_ms", needs_it=BYTES, still_work=NO_BYTES, health_key="storage_ms"),
    Outage("metadata_ms", needs_it=ALL_PROBES, still_work=(), health_key="metadata_ms"),
]


@pytest.fixture
def client(stack: StackInfo) -> Iterator[Client]:
    """A client that records every request it makes in its ActionLog."""
    recording = Client(stack.url, ActionLog(), timeout=60)
    try:
        yield recording
    finally:
        recording.close()


@pytest.mark.parametrize("outage", OUTAGES, ids=[o.part for o in OUTAGES])
def test_a_missing_part_gives_a_quick_503_and_everything_recovers(
    stack: StackInfo, faults: Faults, api: httpx.Client, client: Client, outage: Outage
) -> None:
    owner, grantee = register(api), register(api)
    probe = Probe(client, owner, grantee, sizes={})
    for name in ("kept.txt", "doomed.txt"):
        assert probe.upload_named(name, b"before").ok
    others_before = {part: pid for part, pid in faults.pids().items() if part != outage.part}

    stopping = time.monotonic()
    faults.stop(outage.part)
    print(f"{outage.part}: stopped in {time.monotonic() - stopping:.1f} s")
    try:
        started = time.monotonic()
        health = faults.health()
        assert health.status_code == 503, health.text
        assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
        checks = health.json()["checks"]
        assert checks.get(outage.health_key, "ok") != "ok", checks

        for name in ALL_PROBES:  # in this order, whichever must fail and whichever must work
            if name in outage.needs_it:
                action: Action = getattr(probe, name)()
                assert action.status == 503, f"{name}: {action.describe()}"
                error = json_error(action)
                assert error["code"] == "dependency_unavailable", f"{name}: {error}"
                assert outage.part in error["message"], f"{name}: the message does not name {outage.part}: {error}"
                assert action.elapsed < ANSWER_WITHIN_SECONDS, action.describe()
            elif name in outage.still_work:
                action = getattr(probe, name)()
                assert action.ok, f"{name}: {action.describe()}"
                assert action.elapsed < ANSWER_WITHIN_SECONDS, action.describe()
    finally:
        starting = time.monotonic()
        faults.start(outage.part)
        print(f"{outage.part}: started in {time.monotonic() - starting:.1f} s")

    assert_recovers(faults, probe, client.log, outage.part, others_before)


def test_a_frozen_s3_server_gives_a_503_not_a_hang(
    stack: StackInfo, faults: Faults, api: httpx.Client, client: Client
) -> None:
    """SIGSTOP: the S3 server still accepts connections (the kernel does) but never answers, as
    SeaweedFS does for a while when it restarts. Uploads must fail within storage_ms's S3 timeouts
    (read timeout × attempts, plus backoff), never wait for the client to give up."""
    owner, grantee = register(api), register(api)
    probe = Probe(client, owner, grantee, sizes={})
    assert probe.upload_named("kept.txt", b"before").ok
    others_before = {part: pid for part, pid in faults.pids().items() if part != "s3"}
    s3_pid = faults.pid("s3")
    assert s3_pid is not None
    os.kill(s3_pid, signal.SIGSTOP)
    try:
        for name in ("upload", "upload_large"):
            action: Action = getattr(probe, name)()
            assert action.status == 503, f"{name}: {action.describe()}"
            assert "s3" in json_error(action)["message"], action.describe()
            assert action.elapsed < FROZEN_ANSWER_WITHIN_SECONDS, action.describe()
        health = faults.health()
        assert health.status_code == 503, health.text
        assert health.json()["checks"]["s3"] != "ok", health.text
    finally:
        os.kill(s3_pid, signal.SIGCONT)
    assert_recovers(faults, probe, client.log, "s3", others_before)


def assert_recovers(
    faults: Faults, probe: Probe, log: ActionLog, part: str, others_before: dict[str, int | None]
) -> None:
    """Recovery by itself (the other parts keep running as they were), then one event per counted
    request, none for the refused ones, in order."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    failure: str | None = "not tried"
    while time.monotonic() < deadline:
        health = faults.health()
        if (failure := probe.round_trip() if health.status_code == 200 else f"/health: {health.text}") is None:
            break
        print(f"{part}: not recovered yet: {failure}")
        time.sleep(0.5)
    assert failure is None, f"not recovered {RECOVERY_SECONDS:.0f} s after {part} came back: {failure}"
    print(f"{part}: recovered {RECOVERY_SECONDS - (deadline - time.monotonic()):.1f} s after its start")
    assert {name: pid for name, pid in faults.pids().items() if name != part} == others_before
    assert probe.download().ok

    checked = time.monotonic()
    problems = list(check_events(faults.endpoints, log.ordered(), timeout=30))
    print(f"{part}: events checked in {time.monotonic() - checked:.1f} s")
    assert not problems, "\n".join(problems)


def json_error(action: Action) -> dict[str, Any]:
    """LiftBit's error object: ``error``, or ``liftbit_error`` in a login's RFC 6749 answer."""
    body = json.loads(action.error)
    error: dict[str, Any] = body["liftbit_error"] if "liftbit_error" in body else body["error"]
    return error
