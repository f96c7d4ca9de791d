"""What must hold after any mix of requests and faults: the consistency invariants of LiftBit.

Clients record every request they made and what came back in an ActionLog; `check_all` then
compares the platform's state with what the clients were told:

- every failed request failed cleanly: 4xx or 503, never another 5xx, never without an answer
  (or slower than a bound);
- every file listed downloads with its recorded SHA-256, which is that of the last successful
  upload; files whose last successful action was a delete are gone; nothing else is listed;
- grants are as last set by successful grant/revoke calls (a new file or a delete clears them);
- every successful upload, download and delete has exactly one event on the topic after dedup by
  event_id, in the order of the actions per owner; failed requests have none (a download counts
  once files_ms authorised it, even if nginx then fails to fetch its bytes from S3);
- after a sweep no orphan object remains in the bucket (each key is referenced by a files row, an
  uploads row or tail, or queued in object_deletions), no live file's object is queued for
  deletion or missing, and no unfinished multipart upload remains except those of live tus uploads.

Used by the fault tests (tests/faults) and the load benchmark (bench/load.py).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
import httpx
import psycopg
from botocore.config import Config
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class Kind(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    LIST = "list"
    UPLOAD = "upload"
    DOWNLOAD = "download"
    DELETE = "delete"
    GRANT = "grant"
    REVOKE = "revoke"


SUCCESS = {
    Kind.REGISTER: {201},
    Kind.LOGIN: {200},
    Kind.LIST: {200},
    Kind.UPLOAD: {200, 201},
    Kind.DOWNLOAD: {200, 206},
    Kind.DELETE: {204},
    Kind.GRANT: {204},
    Kind.REVOKE: {204},
}
# Actions that publish one event each when they succeed.
# DELETE moves a file to the trash (event "trash"); "delete" is left for account deletion.
EVENT_TYPES = {Kind.UPLOAD: "upload", Kind.DOWNLOAD: "download", Kind.DELETE: "trash"}


# What nginx answers when it cannot fetch an authorised download's object from S3 (the
# @s3_unavailable location of nginx/liftbit.conf.template). files_ms had authorised the download
# and recorded it by then: the platform counts a download when it is authorised, so such a
# request is expected to have its event. A 503 from files_ms itself means the download was not
# authorised (its messages carry details, "s3 is unavailable: …") and must have no event.
NGINX_S3_FETCH_FAILED = '{"error":{"code":"dependency_unavailable","message":"s3 is unavailable, try again shortly"}}'


def clean_failure(status: int) -> bool:
    """How a request may fail: a client error, or 503 naming the missing part."""
    return 400 <= status < 500 or status == 503


@dataclass(frozen=True)
class Action:
    """One request as the client saw it. ``status`` None: no HTTP answer (transport error, timeout)."""

    seq: int
    kind: Kind
    actor: str
    owner: str
    status: int | None
    elapsed: float
    filename: str = ""
    grantee: str = ""
    at: float = 0.0  # wall-clock time (epoch seconds) the request was sent
    size: int = 0  # upload: bytes sent; download and delete: the file's size as the client knows it
    sha256: str = ""  # upload: of the bytes sent
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status in SUCCESS[self.kind]

    @property
    def counted(self) -> bool:
        """The platform counts this request as done, so it must have exactly one event: a
        success, or a download authorised by files_ms whose bytes nginx then failed to fetch."""
        fetch_failed = self.kind is Kind.DOWNLOAD and self.status == 503 and self.error == NGINX_S3_FETCH_FAILED
        return self.ok or fetch_failed

    def describe(self) -> str:
        what = f"#{self.seq} {self.kind} {self.owner}/{self.filename}" if self.filename else f"#{self.seq} {self.kind}"
        if self.grantee:
            what += f" grantee={self.grantee}"
        return f"{what} by {self.actor} -> {self.status} in {self.elapsed:.2f}s {self.error[:160]}".rstrip()


class ActionLog:
    """Thread-safe record of what every simulated client did and was told."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.actions: list[Action] = []
        self.passwords: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.problems: list[str] = []  # anomalies the clients noticed on the way (e.g. wrong content)

    def next_seq(self) -> int:
        """Take a sequence number when a request starts: per owner, requests are made one at a time."""
        with self._lock:
            return next(self._seq)

    def record(self, action: Action) -> Action:
        with self._lock:
            self.actions.append(action)
        return action

    def record_answer(
        self,
        kind: Kind,
        actor: str,
        owner: str,
        *,
        seq: int,
        at: float,
        started: float,
        response: httpx.Response | None,
        failure: str = "",
        **facts: Any,
    ) -> Action:
        """Record one request from its answer (``response``), or from ``failure`` when there was none;
        ``started`` is the monotonic time it was sent, ``facts`` the Action's optional fields."""
        status = response.status_code if response is not None else None
        error = response.text[:300] if response is not None and response.status_code >= 400 else failure
        elapsed = time.monotonic() - started
        return self.record(Action(seq, kind, actor, owner, status, elapsed, at=at, error=error, **facts))

    def problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    def add_user(self, name: str, password: str, token: str | None = None) -> None:
        with self._lock:
            self.passwords[name] = password
            if token is not None:
                self.tokens[name] = token

    def ordered(self) -> list[Action]:
        with self._lock:
            return sorted(self.actions, key=lambda a: a.seq)

    def summary(self) -> dict[str, Counter[str]]:
        """Per kind, how many requests ended with each status."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for action in self.ordered():
            counts[action.kind][str(action.status)] += 1
        return dict(counts)


@dataclass(frozen=True)
class Endpoints:
    """Where the stack's parts listen (the values of stack.env)."""

    url: str
    files_url: str
    database_url: str
    s3_endpoint_url: str
    s3_key_id: str
    s3_key_secret: str
    s3_bucket: str
    kafka_bootstrap_servers: str
    kafka_topic: str
    internal_token: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Endpoints:
        return cls(
            url=env["LIFTBIT_URL"],
            files_url=env["FILES_URL"],
            database_url=env["DATABASE_URL"],
            s3_endpoint_url=env["S3_ENDPOINT_URL"],
            s3_key_id=env["S3_KEY_ID"],
            s3_key_secret=env["S3_KEY_SECRET"],
            s3_bucket=env["S3_BUCKET"],
            kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
            kafka_topic=env["KAFKA_TOPIC"],
            internal_token=env["INTERNAL_TOKEN"],
        )

    def s3(self) -> S3Client:
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint_url,
            aws_access_key_id=self.s3_key_id,
            aws_secret_access_key=self.s3_key_secret,
            region_name="us-east-1",
            config=Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 2}),
        )


def file_path(owner: str, filename: str) -> str:
    return f"/users/{owner}/files/{quote(filename, safe='')}"


# --------------------------------------------------------------------------- expected state


@dataclass
class FileState:
    sha256: str
    size: int
    grantees: set[str] = field(default_factory=set)


def expected_files(actions: Iterable[Action]) -> dict[tuple[str, str], FileState]:
    """The files (and their grants) that the successful actions, in order, leave behind."""
    files: dict[tuple[str, str], FileState] = {}
    for action in actions:
        if not action.ok:
            continue
        key = (action.owner, action.filename)
        if action.kind is Kind.UPLOAD:
            previous = files.get(key)
            # 201 means a new file (no grants); 200 replaced one, whose grants stay.
            grantees = previous.grantees if previous is not None and action.status == 200 else set()
            files[key] = FileState(sha256=action.sha256, size=action.size, grantees=set(grantees))
        elif action.kind is Kind.DELETE:
            files.pop(key, None)
        elif action.kind is Kind.GRANT and key in files:
            files[key].grantees.add(action.grantee)
        elif action.kind is Kind.REVOKE and key in files:
            files[key].grantees.discard(action.grantee)
    return files


# --------------------------------------------------------------------------- the checks


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, check: str, problems: Iterable[str], limit: int = 25) -> None:
        found = list(problems)
        self.stats[f"{check}_violations"] = len(found)
        self.violations += [f"[{check}] {p}" for p in found[:limit]]
        if len(found) > limit:
            self.violations.append(f"[{check}] … and {len(found) - limit} more")

    def render(self) -> str:
        return "\n".join(self.violations) if self.violations else "all invariants hold"


def check_responses(actions: Iterable[Action], max_seconds: float) -> Iterator[str]:
    """Failures are 4xx or 503; no request goes unanswered or takes longer than ``max_seconds``."""
    for action in actions:
        if action.status is None:
            yield f"no answer (hang or transport error): {action.describe()}"
        elif not action.ok and not clean_failure(action.status):
            yield f"unclean failure {action.status}: {action.describe()}"
        elif action.elapsed > max_seconds:
            yield f"slower than {max_seconds:g}s: {action.describe()}"


def _list_all(client: httpx.Client, owner: str, headers: Mapping[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        response = client.get(f"/users/{owner}/files", params=params, headers=headers)
        response.raise_for_status()
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def check_files(client: httpx.Client, log: ActionLog, actions: list[Action]) -> Iterator[str]:
    """Listings match the successful actions; every listed file downloads with its SHA-256.
    (The downloads made here publish events: check events first.)"""
    expected = expected_files(actions)
    owners = {a.owner for a in actions if a.kind in (Kind.UPLOAD, Kind.DELETE)}
    for owner in sorted(owners):
        headers = {"Authorization": f"Bearer {log.tokens[owner]}"}
        try:
            listed = {item["filename"]: item for item in _list_all(client, owner, headers)}
        except httpx.HTTPError as exc:
            yield f"cannot list {owner}'s files: {exc!r}"
            continue
        wanted = {filename: state for (o, filename), state in expected.items() if o == owner}
        for filename in sorted(set(wanted) - set(listed)):
            yield f"{owner}/{filename}: last successful upload is not listed"
        for filename in sorted(set(listed) - set(wanted)):
            yield f"{owner}/{filename}: listed, but no successful upload left it there (a failed request took effect?)"
        for filename in sorted(set(wanted) & set(listed)):
            item, state = listed[filename], wanted[filename]
            if item["sha256"] != state.sha256 or item["size"] != state.size:
                yield (
                    f"{owner}/{filename}: listed sha256 {item['sha256'][:12]}… size {item['size']}, "
                    f"last successful upload was {state.sha256[:12]}… size {state.size}"
                )
        for filename in sorted(listed):
            response = client.get(file_path(owner, filename), headers=headers)
            if response.status_code != 200:
                yield f"{owner}/{filename}: listed but download answers {response.status_code} {response.text[:120]}"
                continue
            digest = hashlib.sha256(response.content).hexdigest()
            if digest != listed[filename]["sha256"]:
                yield f"{owner}/{filename}: downloaded bytes hash to {digest[:12]}…, not to the listed SHA-256"


def check_grants(client: httpx.Client, log: ActionLog, actions: list[Action]) -> Iterator[str]:
    """Each existing file's grantees are those the last successful grant/revoke calls left."""
    granted_files = {(a.owner, a.filename) for a in actions if a.kind in (Kind.GRANT, Kind.REVOKE)}
    for (owner, filename), state in sorted(expected_files(actions).items()):
        if (owner, filename) not in granted_files:
            continue
        response = client.get(
            f"{file_path(owner, filename)}/permissions", headers={"Authorization": f"Bearer {log.tokens[owner]}"}
        )
        if response.status_code != 200:
            yield f"{owner}/{filename}: permissions answer {response.status_code}"
        elif set(response.json()) != state.grantees:
            yield f"{owner}/{filename}: grantees {sorted(response.json())}, last set {sorted(state.grantees)}"


def check_registrations(endpoints: Endpoints, actions: list[Action]) -> Iterator[str]:
    """A successful registration made an account; one that failed with 503 made none. (Read from
    Postgres: trying to log in would count failed logins against the rate limit.)"""
    attempts = [a for a in actions if a.kind is Kind.REGISTER and (a.ok or a.status == 503)]
    if not attempts:
        return
    with psycopg.connect(endpoints.database_url, connect_timeout=5) as db:
        names = [a.actor for a in attempts]
        existing = {r[0] for r in db.execute("SELECT username FROM users WHERE username = ANY(%s)", (names,))}
    for action in attempts:
        if action.ok and action.actor not in existing:
            yield f"{action.actor}: registered (201) but the account does not exist"
        elif not action.ok and action.actor in existing:
            yield f"{action.actor}: registration failed ({action.status}) but the account exists"


def _event_signature(kind: str, filename: str, actor: str, size: int) -> tuple[str, str, str, int]:
    return (kind, filename, actor, size)


def read_events(endpoints: Endpoints, owners: set[str], expected: Mapping[str, int], timeout: float) -> dict[str, Any]:
    """Events of ``owners`` on the topic, in partition order, until each owner has at least its
    expected number of distinct events and no new one came for a while (or the timeout)."""
    consumer = Consumer(
        {
            "bootstrap.servers": endpoints.kafka_bootstrap_servers,
            "group.id": f"invariants-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            # Reading history: the broker (Tansu) answers a fetch with what it read from S3 within
            # this wait, so a short one returns few batches, or none, per round trip.
            "fetch.wait.max.ms": 500,
        }
    )
    raw: dict[str, list[dict[str, Any]]] = defaultdict(list)
    distinct: dict[str, set[str]] = defaultdict(set)
    try:
        topic = endpoints.kafka_topic
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            messages = consumer.consume(num_messages=5000, timeout=0.3)
            for message in messages:
                if message.error() is not None:
                    continue
                event = json.loads(message.value() or b"{}")
                if event.get("owner") in owners:
                    event["_key"] = (message.key() or b"").decode()
                    raw[event["owner"]].append(event)
                    distinct[event["owner"]].add(event["event_id"])
                    quiet_since = time.monotonic()
            complete = all(len(distinct[o]) >= expected.get(o, 0) for o in owners)
            if complete and time.monotonic() - quiet_since > 1.5:
                break
    finally:
        consumer.close()
    return {"events": raw, "read_until_complete": all(len(distinct[o]) >= expected.get(o, 0) for o in owners)}


def check_events(endpoints: Endpoints, actions: list[Action], timeout: float) -> Iterator[str]:
    """Exactly one event (after dedup by event_id) per successful upload/download/delete, none for
    failed requests, in the order of the actions per owner; the message key is the owner."""
    expected: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
    attempts: dict[tuple[str, tuple[str, str, str, int]], list[Action]] = defaultdict(list)
    owners = {a.owner for a in actions if a.kind in EVENT_TYPES}
    for action in actions:
        if action.kind not in EVENT_TYPES:
            continue
        signature = _event_signature(EVENT_TYPES[action.kind], action.filename, action.actor, action.size)
        attempts[(action.owner, signature)].append(action)
        if action.counted:
            expected[action.owner].append(signature)
    found = read_events(endpoints, owners, {o: len(s) for o, s in expected.items()}, timeout)
    # Events of failed requests, grouped by how the request failed (one line per kind of failure).
    of_failures: dict[str, list[str]] = defaultdict(list)
    for owner in sorted(owners):
        seen: dict[str, dict[str, Any]] = {}
        sequence: list[tuple[str, str, str, int]] = []
        for event in found["events"].get(owner, []):
            event_id = event["event_id"]
            if event_id in seen:
                if seen[event_id] != event:
                    yield f"{owner}: event_id {event_id} published twice with different payloads"
                continue
            seen[event_id] = event
            if event["_key"] != owner:
                yield f"{owner}: event {event_id} has message key {event['_key']!r}"
            sequence.append(_event_signature(event["type"], event["filename"], event["actor"], int(event["size"])))
        wanted = expected.get(owner, [])
        if sequence == wanted:
            continue
        missing = Counter(wanted) - Counter(sequence)
        extra = Counter(sequence) - Counter(wanted)
        if not missing and not extra:
            position = next(i for i, (a, b) in enumerate(zip(sequence, wanted, strict=True)) if a != b)
            yield f"{owner}: events out of order at #{position}: {sequence[position]} came before {wanted[position]}"
        for signature, count in sorted(missing.items()):
            yield f"{owner}: {count} successful action(s) without an event: {signature}"
        for event in seen.values():
            signature = _event_signature(event["type"], event["filename"], event["actor"], int(event["size"]))
            if not extra[signature]:
                continue
            # The request this event reports: the attempt with its signature sent closest before it.
            occurred = datetime.fromisoformat(event["occurred_at"]).timestamp()
            candidates = attempts.get((owner, signature), [])
            culprit = min(candidates, key=lambda a: abs(occurred - a.at), default=None)
            if culprit is not None and not culprit.counted:
                extra[signature] -= 1
                cause = f"{signature[0]} answered {culprit.status}: {_error_message(culprit).split(':')[0]}"
                of_failures[cause].append(culprit.describe())
        for signature, count in sorted((+extra).items()):
            yield f"{owner}: {count} event(s) with no successful request: {signature}"
    for cause, examples in sorted(of_failures.items()):
        yield f"{len(examples)} event(s) published for failed requests ({cause}), e.g. {examples[0]}"


def _error_message(action: Action) -> str:
    try:
        return str(json.loads(action.error)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return action.error[:80]


def sweep(endpoints: Endpoints, timeout: float = 120) -> dict[str, int]:
    """Run the reconciler once (files_ms's internal endpoint)."""
    response = httpx.post(
        f"{endpoints.files_url}/internal/sweep",
        headers={"X-Internal-Token": endpoints.internal_token},
        timeout=timeout,
    )
    response.raise_for_status()
    result: dict[str, int] = response.json()
    return result


@dataclass(frozen=True)
class StorageState:
    objects: set[str]
    multipart: list[tuple[str, str]]  # (key, upload id)
    all_file_keys: set[str]
    file_keys: dict[str, str]  # object key → owner/filename, of the files checked
    upload_keys: set[str]
    tus_upload_ids: set[str]
    queued: set[str]


def storage_state(endpoints: Endpoints, owners: Iterable[str] | None = None) -> StorageState:
    s3 = endpoints.s3()
    objects: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=endpoints.s3_bucket):
        objects |= {o["Key"] for o in page.get("Contents", [])}
    multipart: list[tuple[str, str]] = []
    for listing in s3.get_paginator("list_multipart_uploads").paginate(Bucket=endpoints.s3_bucket):
        multipart += [(u["Key"], u["UploadId"]) for u in listing.get("Uploads", [])]
    with psycopg.connect(endpoints.database_url, connect_timeout=5) as db:
        # A file's current content and its earlier versions (live or in the trash) hold objects.
        files = db.execute(
            "SELECT n.object_key, u.username, n.path FROM nodes n JOIN users u ON u.id = n.owner_id "
            "WHERE n.object_key IS NOT NULL "
            "UNION ALL SELECT v.object_key, u.username, n.path FROM versions v "
            "JOIN nodes n ON n.id = v.node_id JOIN users u ON u.id = n.owner_id"
        ).fetchall()
        uploads = db.execute("SELECT object_key, tail_key, s3_upload_id FROM uploads").fetchall()
        queued = {r[0] for r in db.execute("SELECT object_key FROM object_deletions")}
    upload_keys = {r[0] for r in uploads} | {r[1] for r in uploads if r[1]}
    wanted = None if owners is None else set(owners)
    return StorageState(
        objects=objects,
        multipart=multipart,
        all_file_keys={r[0] for r in files},
        file_keys={r[0]: f"{r[1]}/{r[2]}" for r in files if wanted is None or r[1] in wanted},
        upload_keys=upload_keys,
        tus_upload_ids={r[2] for r in uploads},
        queued=queued,
    )


def check_storage(endpoints: Endpoints, owners: Iterable[str] | None = None) -> Iterator[str]:
    """Run after a sweep (and after the orphan grace): S3 and Postgres agree. The bucket is
    checked whole; the files rows of ``owners`` only, when given (a test's own users)."""
    state = storage_state(endpoints, owners)
    referenced = state.all_file_keys | state.upload_keys | state.queued
    for key in sorted(state.objects - referenced):
        yield f"orphan object {key}: no file, upload or pending deletion refers to it"
    for key, name in sorted(state.file_keys.items()):
        if key not in state.objects:
            yield f"{name} points at {key}, which is not in the bucket (listed file without bytes)"
        if key in state.queued:
            yield f"{name}: its object {key} is queued for deletion (the file will lose its bytes)"
    for key, upload_id in state.multipart:
        if upload_id not in state.tus_upload_ids:
            yield f"unfinished multipart upload {upload_id[:16]}… of {key} left after the sweep"


def check_all(
    endpoints: Endpoints,
    log: ActionLog,
    *,
    max_seconds: float = 15.0,
    event_timeout: float = 60.0,
    orphan_grace_seconds: float = 2.0,
    only_own_files: bool = False,
) -> Report:
    """Every invariant, in an order where the checks do not disturb each other (the downloads of
    the file check publish events, so the events are checked first). ``only_own_files``: check
    the files rows of the log's users only (on a stack shared with other tests); the bucket is
    always checked whole."""
    actions = log.ordered()
    owners = {a.owner for a in actions} if only_own_files else None
    report = Report(
        stats={
            "actions": len(actions),
            "succeeded": sum(a.ok for a in actions),
            "downloads_failed_after_authorisation": sum(a.counted and not a.ok for a in actions),
        }
    )
    report.add("responses", check_responses(actions, max_seconds))
    report.add("events", check_events(endpoints, actions, event_timeout))
    with httpx.Client(base_url=endpoints.url, timeout=60) as client:
        report.add("files", check_files(client, log, actions))
        report.add("grants", check_grants(client, log, actions))
    report.add("registrations", check_registrations(endpoints, actions))
    report.add("client", log.problems)
    # The objects of failed uploads must be older than the orphan grace before the sweep.
    last_answer = max((a.at + a.elapsed for a in actions), default=0.0)
    time.sleep(max(0.0, min(orphan_grace_seconds + 0.5, last_answer + orphan_grace_seconds + 0.5 - time.time())))
    report.stats["sweep"] = sweep(endpoints)
    report.add("storage", check_storage(endpoints, owners))
    return report
