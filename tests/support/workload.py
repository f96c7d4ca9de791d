"""A stream of mixed requests from several simulated users, recorded in an ActionLog.

Each owner has one thread that makes every request touching that owner's files, one at a time
(uploads, replaces, downloads by the owner and by grantees, grants, revokes, deletes, listings),
so the order of each owner's actions, and so of their events, is known. Threads also register
new users, who join the pool of grantees. Each thread keeps a model of its owner's files built
from the successful answers only, chooses its next request from it, and notes in the log when an
answer contradicts it (e.g. a download with other bytes than the last successful upload)."""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from scripts.stack.invariants import Action, ActionLog, Kind, file_path
from tests.support.users import unique_name

PASSWORD = "correct horse battery"
MiB = 1024 * 1024


@dataclass
class Known:
    sha256: str
    size: int
    grantees: set[str] = field(default_factory=set)


class Client:
    """Makes one request and records it."""

    def __init__(self, url: str, log: ActionLog, timeout: float) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout)
        self.log = log

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        kind: Kind,
        actor: str,
        owner: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        filename: str = "",
        grantee: str = "",
        size: int = 0,
        sha256: str = "",
        **kwargs: Any,
    ) -> tuple[Action, httpx.Response | None]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        seq, at, started = self.log.next_seq(), time.time(), time.monotonic()
        response: httpx.Response | None = None
        failure = ""
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            failure = repr(exc)
        action = self.log.record_answer(
            kind,
            actor,
            owner,
            seq=seq,
            at=at,
            started=started,
            response=response,
            failure=failure,
            filename=filename,
            grantee=grantee,
            size=size,
            sha256=sha256,
        )
        return action, response


def register_user(client: Client, name: str | None = None) -> str | None:
    """Register and log in; the user's name when both succeeded."""
    name = name or unique_name("w")
    client.log.add_user(name, PASSWORD)
    created, _ = client.send(Kind.REGISTER, name, name, "POST", "/users", json={"username": name, "password": PASSWORD})
    if not created.ok:
        return None
    login, response = client.send(
        Kind.LOGIN, name, name, "POST", "/auth/token", data={"username": name, "password": PASSWORD}
    )
    if not login.ok or response is None:
        return None
    client.log.add_user(name, PASSWORD, response.json()["access_token"])
    return name


class OwnerThread(threading.Thread):
    def __init__(self, workload: MixedWorkload, owner: str, seed: int) -> None:
        super().__init__(name=f"workload-{owner}", daemon=True)
        self.workload = workload
        self.owner = owner
        self.random = random.Random(seed)
        self.files: dict[str, Known] = {}
        self.names = 0
        self.crashed: BaseException | None = None

    @property
    def log(self) -> ActionLog:
        return self.workload.log

    def token(self, user: str) -> str:
        return self.log.tokens[user]

    def run(self) -> None:
        client = Client(self.workload.url, self.log, self.workload.request_timeout)
        try:
            while not self.workload.stopping.is_set():
                self.step(client)
                time.sleep(self.workload.pause)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.crashed = exc
        finally:
            client.close()

    def body(self) -> bytes:
        roll = self.random.random()
        size = (
            self.random.randint(0, 64 * 1024)
            if roll < 0.75
            else self.random.randint(64 * 1024, MiB)
            if roll < 0.96
            else self.random.randint(9 * MiB, 10 * MiB)  # more than one part: the multipart path
        )
        return self.random.randbytes(size)

    def step(self, client: Client) -> None:
        roll = self.random.random()
        if not self.files or (roll < 0.2 and len(self.files) < 12):
            self.names += 1
            self.upload(client, f"file-{self.names}.bin")
        elif roll < 0.35:
            self.upload(client, self.random.choice(sorted(self.files)))
        elif roll < 0.55:
            self.download(client, self.owner, self.random.choice(sorted(self.files)))
        elif roll < 0.65:
            shared = [(n, k) for n, k in sorted(self.files.items()) if k.grantees]
            if shared:
                name, known = self.random.choice(shared)
                self.download(client, self.random.choice(sorted(known.grantees)), name)
        elif roll < 0.75:
            self.grant(client, self.random.choice(sorted(self.files)))
        elif roll < 0.82:
            self.revoke(client, self.random.choice(sorted(self.files)))
        elif roll < 0.9:
            self.delete(client, self.random.choice(sorted(self.files)))
        elif roll < 0.95:
            self.list(client)
        else:
            registered = register_user(client)
            if registered is not None:
                self.workload.add_grantee(registered)

    def upload(self, client: Client, name: str) -> None:
        body = self.body()
        digest = hashlib.sha256(body).hexdigest()
        action, _ = client.send(
            Kind.UPLOAD,
            self.owner,
            self.owner,
            "PUT",
            file_path(self.owner, name),
            token=self.token(self.owner),
            filename=name,
            size=len(body),
            sha256=digest,
            content=body,
        )
        if not action.ok:
            return
        previous = self.files.get(name)
        if (action.status == 201) != (previous is None):
            self.log.problem(f"{action.describe()}: the client believed the file {'existed' if previous else 'new'}")
        grantees = previous.grantees if previous is not None and action.status == 200 else set()
        self.files[name] = Known(digest, len(body), grantees)

    def download(self, client: Client, reader: str, name: str) -> None:
        known = self.files[name]
        action, response = client.send(
            Kind.DOWNLOAD,
            reader,
            self.owner,
            "GET",
            file_path(self.owner, name),
            token=self.token(reader),
            filename=name,
            size=known.size,
        )
        if action.ok and response is not None and hashlib.sha256(response.content).hexdigest() != known.sha256:
            self.log.problem(f"{action.describe()}: got {len(response.content)} bytes, not the last upload's")
        if action.status == 404:
            self.log.problem(f"{action.describe()}: 404 for a file the client believes readable")

    def grant(self, client: Client, name: str) -> None:
        candidates = sorted(self.workload.grantees() - self.files[name].grantees - {self.owner})
        if not candidates:
            return
        grantee = self.random.choice(candidates)
        path = f"{file_path(self.owner, name)}/permissions/{grantee}"
        action, _ = client.send(
            Kind.GRANT,
            self.owner,
            self.owner,
            "PUT",
            path,
            token=self.token(self.owner),
            filename=name,
            grantee=grantee,
        )
        if action.ok:
            self.files[name].grantees.add(grantee)

    def revoke(self, client: Client, name: str) -> None:
        if not self.files[name].grantees:
            return
        grantee = self.random.choice(sorted(self.files[name].grantees))
        path = f"{file_path(self.owner, name)}/permissions/{grantee}"
        action, _ = client.send(
            Kind.REVOKE,
            self.owner,
            self.owner,
            "DELETE",
            path,
            token=self.token(self.owner),
            filename=name,
            grantee=grantee,
        )
        if action.ok:
            self.files[name].grantees.discard(grantee)

    def delete(self, client: Client, name: str) -> None:
        action, _ = client.send(
            Kind.DELETE,
            self.owner,
            self.owner,
            "DELETE",
            file_path(self.owner, name),
            token=self.token(self.owner),
            filename=name,
            size=self.files[name].size,
        )
        if action.ok:
            del self.files[name]

    def list(self, client: Client) -> None:
        action, response = client.send(
            Kind.LIST,
            self.owner,
            self.owner,
            "GET",
            f"/users/{self.owner}/files",
            token=self.token(self.owner),
            params={"limit": 1000},
        )
        if action.ok and response is not None:
            listed = {item["filename"]: item["sha256"] for item in response.json()["items"]}
            if listed != {name: known.sha256 for name, known in self.files.items()}:
                self.log.problem(f"{action.describe()}: the listing differs from the successful uploads")


class MixedWorkload:
    def __init__(
        self, url: str, *, owners: int = 4, seed: int = 6, pause: float = 0.01, request_timeout: float = 30.0
    ) -> None:
        self.url = url
        self.log = ActionLog()
        self.stopping = threading.Event()
        self.pause = pause
        self.request_timeout = request_timeout
        self._lock = threading.Lock()
        self._grantees: set[str] = set()
        client = Client(url, self.log, request_timeout)
        try:
            names = [register_user(client) for _ in range(owners + 2)]
        finally:
            client.close()
        assert all(names), "could not register the workload's users"
        self.threads = [OwnerThread(self, name, seed + i) for i, name in enumerate(names[:owners]) if name]
        self._grantees = {name for name in names if name}

    def grantees(self) -> set[str]:
        with self._lock:
            return set(self._grantees)

    def add_grantee(self, name: str) -> None:
        with self._lock:
            self._grantees.add(name)

    @contextlib.contextmanager
    def running(self) -> Iterator[MixedWorkload]:
        for thread in self.threads:
            thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            for thread in self.threads:
                thread.join(timeout=2 * self.request_timeout)

    def problems(self) -> list[str]:
        """Threads that crashed or did not stop (a request that hung)."""
        found = [f"{t.name} crashed: {t.crashed!r}" for t in self.threads if t.crashed is not None]
        found += [f"{t.name} still running: a request hangs" for t in self.threads if t.is_alive()]
        return found
