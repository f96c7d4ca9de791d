"""Transfer benchmark: LiftBit through nginx against boto3 talking straight to the same S3 server.

    python -m bench.transfer                        # everything on a throw-away stack (a few minutes)
    python -m bench.transfer --large-mib 256 --small-ops 300 --no-write   # a quick look, report not written
    python -m bench.transfer --set PART_SIZE_BYTES=16777216 --set UPLOAD_CONCURRENCY=8
    python -m bench.transfer --home /tmp/lb-prof --keep-stack --section large  # leave it up for py-spy

(from the repository root; `make bench` runs the first line.)

One run starts its own stack (python -m scripts.stack up --port-base auto), registers a user and measures:
large uploads and downloads (100 MiB and 1 GiB by default) through nginx against boto3's
upload_fileobj / download_fileobj (default TransferConfig), with SHA-256 checked end to end; the
peak RSS growth of nginx, files_ms and storage_ms during each of those transfers; 4 KiB files at
32 concurrent clients against the same S3 operations from 32 boto3 threads; and a tus upload cut
at 50 % and resumed, against the same upload in one go. The table is printed and written to
bench/RESULTS.md with the machine's details. The stack is stopped at the end, also on failure.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import math
import os
import queue
import random
import resource
import shutil
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, cast
from urllib.parse import urlsplit

import boto3
import httpx
import typer
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from bench.harness import (
    ROOT,
    GiB,
    MiB,
    Section,
    console,
    log,
    machine_info,
    percentile,
    process_trees,
    register_user,
    rss_bytes,
    throwaway_stack,
    trees_cpu,
    verdict,
    write_results,
)
from scripts.stack.info import StackInfo

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_RESULTS = ROOT / "bench" / "RESULTS.md"
RECV_BUFFER = 1 * MiB
RING = 8
RSS_INTERVAL = 0.05
RSS_GOAL_MIB = 64
WARM_UP_MIB = 64
RATIO_GOAL = 0.9
# Issue 13's goals for 4 KiB files at 32 clients: platform ops/s ÷ direct ops/s, and p99 latency.
SMALL_PUT_GOAL = 0.3
SMALL_GET_GOAL = 0.5
SMALL_P99_GOAL_MS = 250.0
SMALL_GOAL_CLIENTS = 32
MONITORED = ("nginx", "files_ms", "storage_ms")
DIRECT_PREFIX = "bench-direct/"

app = typer.Typer(add_completion=False, help=__doc__, rich_markup_mode=None)


def human_size(size: int) -> str:
    return f"{size // GiB} GiB" if size % GiB == 0 else f"{size / MiB:g} MiB"


def mib_per_s(size: int, seconds: float) -> float:
    return size / MiB / seconds if seconds > 0 else math.inf


# --------------------------------------------------------------------------- a lean HTTP/1.1 client

Sink = Callable[[memoryview], object]


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    body_size: int

    def json(self) -> Any:
        return json.loads(self.body)


class _Reader:
    """Reads a response off a blocking socket; the body goes into a sink through a ring of reused
    1 MiB buffers (no allocation per read)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._pending = bytearray()
        # A ring of buffers: a sink may hold on to the last RING - 1 pieces (see PipelinedHash).
        self._buffers = [memoryview(bytearray(RECV_BUFFER)) for _ in range(RING)]
        self._next = 0

    def _fill(self) -> None:
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed before the response ended")
        self._pending += data

    def line(self) -> bytes:
        while (end := self._pending.find(b"\r\n")) < 0:
            self._fill()
        line = bytes(self._pending[:end])
        del self._pending[: end + 2]
        return line

    def body(self, length: int | None, sink: Sink) -> int:
        """``length`` bytes (None: until the server closes) into ``sink``."""
        total = 0
        if self._pending:
            take = len(self._pending) if length is None else min(length, len(self._pending))
            sink(memoryview(bytes(self._pending[:take])))
            del self._pending[:take]
            total = take
        while length is None or total < length:
            buffer = self._buffers[self._next]
            self._next = (self._next + 1) % RING
            want = RECV_BUFFER if length is None else min(RECV_BUFFER, length - total)
            got = self._sock.recv_into(buffer, want)
            if got == 0:
                if length is None:
                    break
                raise ConnectionError(f"body ended after {total} of {length} bytes")
            sink(buffer[:got])
            total += got
        return total

    def chunked(self, sink: Sink) -> int:
        total = 0
        while size := int(self.line().split(b";")[0], 16):
            total += self.body(size, sink)
            self.line()
        while self.line():  # trailers
            pass
        return total


class RawHTTP:
    """One connection per request: small enough to be obviously correct, and fast enough not to be
    the bottleneck (uploads go out with sendfile, downloads land in one reused 1 MiB buffer)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = 600.0

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        *,
        body: bytes | None = None,
        file: Path | None = None,
        offset: int = 0,
        count: int | None = None,
        abort_after: int | None = None,
        sink: Sink | None = None,
    ) -> RawResponse | None:
        """Send a request; the body comes from ``body`` or ``count`` bytes of ``file`` at ``offset``.
        With ``abort_after`` the connection is reset after that many body bytes (returns None)."""
        all_headers = {"Host": f"{self.host}:{self.port}", "Connection": "close", **(headers or {})}
        if file is not None:
            count = file.stat().st_size - offset if count is None else count
            all_headers["Content-Length"] = str(count)
        elif body is not None or method in ("POST", "PUT", "PATCH"):
            all_headers["Content-Length"] = str(len(body or b""))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in all_headers.items()) + "\r\n"
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(head.encode("latin-1"))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # an early answer is read below
                if body:
                    sock.sendall(body)
                if file is not None and count:
                    with file.open("rb") as stream:
                        sent = sock.sendfile(stream, offset, abort_after if abort_after is not None else count)
                    if abort_after is not None:
                        if sent != abort_after:
                            raise ConnectionError(f"sent only {sent} of {abort_after} bytes before the cut")
                        # Reset, not a clean close: the server sees the connection break mid-body.
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return None
            return self._response(sock, method, sink)
        finally:
            sock.close()

    def _response(self, sock: socket.socket, method: str, sink: Sink | None) -> RawResponse:
        reader = _Reader(sock)
        status = 100
        headers: dict[str, str] = {}
        while status < 200:  # skip 100 Continue
            status = int(reader.line().split(b" ", 2)[1])
            headers = {}
            while line := reader.line():
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
        collected = bytearray()
        target: Sink = sink if sink is not None else collected.extend
        if method == "HEAD" or status in (204, 304):
            size = 0
        elif "chunked" in headers.get("transfer-encoding", ""):
            size = reader.chunked(target)
        else:
            length = headers.get("content-length")
            size = reader.body(int(length) if length is not None else None, target)
        return RawResponse(status, headers, bytes(collected), size)


def expect(response: RawResponse | None, *statuses: int) -> RawResponse:
    if response is None or response.status not in statuses:
        detail = "no response" if response is None else f"{response.status} {response.body[:300]!r}"
        raise RuntimeError(f"expected HTTP {statuses}, got {detail}")
    return response


# --------------------------------------------------------------------------- RSS sampling


@dataclass
class RssWindow:
    before: dict[str, int] = field(default_factory=dict)  # bytes
    peak: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)

    def growth_mib(self, group: str) -> float:
        return (self.peak[group] - self.before[group]) / MiB


class RssSampler:
    """Samples VmRSS of each process group (a process and its children) every ~50 ms."""

    def __init__(self, roots: dict[str, int], interval: float = RSS_INTERVAL) -> None:
        self._roots = roots
        self._interval = interval
        self._trees = self._find_trees()
        self._lock = threading.Lock()
        self._window: RssWindow | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.samples = 0

    def _find_trees(self) -> dict[str, list[int]]:
        return process_trees(self._roots)

    def sample(self) -> dict[str, int]:
        return {name: sum(rss_bytes(pid) for pid in tree) for name, tree in self._trees.items()}

    def _run(self) -> None:
        last_refresh = time.monotonic()
        while not self._stop.wait(self._interval):
            if time.monotonic() - last_refresh > 1.0:  # nginx may replace a worker
                self._trees = self._find_trees()
                last_refresh = time.monotonic()
            current = self.sample()
            with self._lock:
                self.samples += 1
                if self._window is not None:
                    for name, value in current.items():
                        self._window.peak[name] = max(self._window.peak[name], value)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @contextlib.contextmanager
    def window(self) -> Iterator[RssWindow]:
        current = self.sample()
        window = RssWindow(before=dict(current), peak=dict(current))
        with self._lock:
            self._window = window
        try:
            yield window
        finally:
            final = self.sample()
            with self._lock:
                self._window = None
                for name, value in final.items():
                    window.peak[name] = max(window.peak[name], value)
                window.after = final


# --------------------------------------------------------------------------- CPU accounting


@dataclass
class CpuUsage:
    """CPU seconds each part of the stack (process tree) and this client spent, and the wall time."""

    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    gross: float | None = None  # the total before the idle background was taken off

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


class CpuMeter:
    def __init__(self, roots: dict[str, int]) -> None:
        self._roots = roots
        self.idle: dict[str, float] = {}  # CPU seconds per second each part spends with nothing to do

    def settle(self, timeout: float = 120.0, quiet: float = 0.3, window: float = 3.0) -> None:
        """Wait until the stack is idle (Spark's start-up, for one), then record its idle rates."""
        deadline = time.monotonic() + timeout
        while True:
            with self.measure() as usage:
                time.sleep(window)
            stack_rate = (usage.total - usage.seconds["client"]) / usage.wall
            if stack_rate < quiet or time.monotonic() > deadline:
                break
        self.idle = {name: seconds / usage.wall for name, seconds in usage.seconds.items() if name != "client"}
        log(
            f"stack idle at {stack_rate:.2f} cores ("
            + ", ".join(f"{n} {r:.2f}" for n, r in self.idle.items() if r >= 0.01)
            + ")"
        )

    def net(self, usage: CpuUsage | None) -> CpuUsage:
        """``usage`` less what the stack spends anyway (background work, measured while idle)."""
        if usage is None:
            return CpuUsage()
        seconds = {
            name: max(0.0, value - self.idle.get(name, 0.0) * usage.wall) for name, value in usage.seconds.items()
        }
        return CpuUsage(seconds, usage.wall, usage.total)

    def snapshot(self) -> dict[str, float]:
        usage = trees_cpu(self._roots)
        own = resource.getrusage(resource.RUSAGE_SELF)
        return usage | {"client": own.ru_utime + own.ru_stime}

    @contextlib.contextmanager
    def measure(self) -> Iterator[CpuUsage]:
        usage = CpuUsage()
        before = self.snapshot()
        began = time.perf_counter()
        try:
            yield usage
        finally:
            usage.wall = time.perf_counter() - began
            after = self.snapshot()
            usage.seconds = {name: max(0.0, after[name] - before.get(name, 0.0)) for name in after}


# --------------------------------------------------------------------------- test data


@dataclass(frozen=True)
class DataFile:
    path: Path
    size: int
    sha256: str


def make_file(path: Path, size: int, seed: int) -> DataFile:
    """Pseudo-random (incompressible) bytes, written once; later reads come from the page cache."""
    rng = random.Random(seed)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            block = rng.randbytes(min(left, 16 * MiB))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return DataFile(path, size, digest.hexdigest())


class HashSink:
    """A write-only file object (non-seekable, so boto3 writes it in order) that hashes and counts.
    boto3 receives in its 10 threads and writes here from another, so hashing overlaps already."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


class PipelinedHash:
    """SHA-256 in a second thread, so that receiving and hashing overlap, as they do in boto3's
    download_fileobj (threads receive, another writes into the hashing sink). It holds on to at
    most RING - 1 of the reader's buffers: the queue blocks the reader before it reuses one."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self._queue: queue.Queue[memoryview | None] = queue.Queue(maxsize=RING - 2)
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (piece := self._queue.get()) is not None:
            self.digest.update(piece)

    def write(self, data: memoryview) -> None:
        self.size += len(data)
        self._queue.put(data)

    def hexdigest(self) -> str:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        return self.digest.hexdigest()


# --------------------------------------------------------------------------- clients


@dataclass
class Session:
    stack: StackInfo
    username: str
    token: str
    raw: RawHTTP
    s3: S3Client
    bucket: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def s3_client(env: dict[str, str], pool: int) -> S3Client:
    """boto3 as a user would set it up; only path-style addressing (a local server by IP), a
    connection pool for 32 threads and SigV4 for presigned URLs (boto3 presigns with SigV2 unless
    told, which signs Content-Type too) differ from the defaults."""
    return boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        aws_access_key_id=env["S3_KEY_ID"],
        aws_secret_access_key=env["S3_KEY_SECRET"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=pool, signature_version="s3v4"),
    )


def open_session(stack: StackInfo) -> Session:
    username, token = register_user(stack.url)
    return Session(
        stack=stack,
        username=username,
        token=token,
        raw=RawHTTP(stack.url),
        s3=s3_client(stack.env, 10),
        bucket=stack.env.get("S3_BUCKET", "liftbit"),
    )


# --------------------------------------------------------------------------- large transfers


@dataclass
class Transfer:
    seconds: float
    ok: bool
    rss: RssWindow | None = None
    cpu: CpuUsage | None = None


def platform_upload(session: Session, data: DataFile, name: str) -> tuple[float, bool]:
    headers = session.auth | {"Content-Type": "application/octet-stream", "X-Checksum-SHA256": data.sha256}
    began = time.perf_counter()
    response = session.raw.request("PUT", f"/users/{session.username}/files/{name}", headers, file=data.path)
    seconds = time.perf_counter() - began
    info = expect(response, 200, 201).json()
    if info["sha256"] != data.sha256 or info["size"] != data.size:
        raise RuntimeError(f"upload of {name} stored {info['size']} bytes with SHA-256 {info['sha256']}")
    return seconds, True


def platform_download(session: Session, data: DataFile, name: str) -> tuple[float, bool]:
    sink = PipelinedHash()
    began = time.perf_counter()
    response = session.raw.request("GET", f"/users/{session.username}/files/{name}", session.auth, sink=sink.write)
    digest = sink.hexdigest()
    seconds = time.perf_counter() - began
    expect(response, 200)
    return seconds, sink.size == data.size and digest == data.sha256


def direct_upload(session: Session, data: DataFile, key: str) -> tuple[float, bool]:
    began = time.perf_counter()
    with data.path.open("rb") as stream:
        session.s3.upload_fileobj(stream, session.bucket, key, Config=TransferConfig())
    return time.perf_counter() - began, True


def direct_download(session: Session, data: DataFile, key: str) -> tuple[float, bool]:
    sink = HashSink()
    began = time.perf_counter()
    session.s3.download_fileobj(session.bucket, key, cast("IO[Any]", sink), Config=TransferConfig())
    seconds = time.perf_counter() - began
    return seconds, sink.size == data.size and sink.hexdigest() == data.sha256


def single_stream_upload(session: Session, data: DataFile, key: str) -> tuple[float, bool]:
    """The raw client on one presigned PUT straight to S3: what a platform PUT is measured against
    with the same client (curl -T, in effect)."""
    url = session.s3.generate_presigned_url("put_object", Params={"Bucket": session.bucket, "Key": key})
    parts = urlsplit(url)
    headers = {"Content-Type": "application/octet-stream"}
    began = time.perf_counter()
    response = RawHTTP(url).request("PUT", f"{parts.path}?{parts.query}", headers, file=data.path)
    seconds = time.perf_counter() - began
    expect(response, 200)
    return seconds, True


def single_stream_download(session: Session, data: DataFile, key: str) -> tuple[float, bool]:
    """The raw client on one presigned GET straight to S3: the same single stream nginx makes."""
    url = session.s3.generate_presigned_url("get_object", Params={"Bucket": session.bucket, "Key": key})
    parts = urlsplit(url)
    sink = PipelinedHash()
    began = time.perf_counter()
    response = RawHTTP(url).request("GET", f"{parts.path}?{parts.query}", sink=sink.write)
    digest = sink.hexdigest()
    seconds = time.perf_counter() - began
    expect(response, 200)
    return seconds, sink.size == data.size and digest == data.sha256


@dataclass
class LargeResult:
    size: int
    platform_up: Transfer
    direct_up: Transfer
    platform_down: Transfer
    direct_down: Transfer
    single_stream_up: Transfer
    single_stream_down: Transfer


def best(results: list[Transfer]) -> Transfer:
    """The fastest of several rounds (the machine is shared: slower rounds measure the neighbours),
    with the worst RSS growth seen in any round."""
    fastest = min(results, key=lambda t: t.seconds)
    windows = [t.rss for t in results if t.rss is not None]
    worst = max(windows, key=lambda w: max(w.growth_mib(g) for g in w.before)) if windows else None
    return Transfer(fastest.seconds, all(t.ok for t in results), worst, fastest.cpu)


@dataclass
class Probes:
    rss: RssSampler
    cpu: CpuMeter

    @contextlib.contextmanager
    def watch(self, with_rss: bool) -> Iterator[tuple[RssWindow | None, CpuUsage]]:
        with contextlib.ExitStack() as stack:
            window = stack.enter_context(self.rss.window()) if with_rss else None
            usage = stack.enter_context(self.cpu.measure())
            yield window, usage


def measure_large(session: Session, data: DataFile, probes: Probes, rounds: int) -> LargeResult:
    label = human_size(data.size)
    runs: dict[str, list[Transfer]] = {
        name: [] for name in ("up", "direct_up", "down", "direct_down", "single_up", "single")
    }

    def run(kind: str, title: str, action: Callable[[], tuple[float, bool]], platform: bool) -> None:
        with probes.watch(with_rss=platform) as (window, usage):
            seconds, ok = action()
        net = probes.cpu.net(usage)
        runs[kind].append(Transfer(seconds, ok, window, net))
        check = "" if kind in ("up", "direct_up") else f"  sha256 ok={ok}"
        log(f"{label} {title:<24} {mib_per_s(data.size, seconds):7.1f} MiB/s  cpu {net.total:5.1f} s{check}")

    for round_number in range(1, rounds + 1):
        name = f"large-{data.size}-{round_number}.bin"
        key = f"{DIRECT_PREFIX}{name}"
        run("direct_up", "upload, direct boto3", partial(direct_upload, session, data, key), False)
        run("single_up", "upload, one S3 stream", partial(single_stream_upload, session, data, key), False)
        run("up", "upload, platform", partial(platform_upload, session, data, name), True)
        run("down", "download, platform", partial(platform_download, session, data, name), True)
        run("direct_down", "download, direct boto3", partial(direct_download, session, data, key), False)
        run("single", "download, one S3 stream", partial(single_stream_download, session, data, key), False)
        # The platform's objects stay (deleting is not measured); the direct one goes.
        session.s3.delete_object(Bucket=session.bucket, Key=key)
    return LargeResult(
        size=data.size,
        platform_up=best(runs["up"]),
        direct_up=best(runs["direct_up"]),
        platform_down=best(runs["down"]),
        direct_down=best(runs["direct_down"]),
        single_stream_up=best(runs["single_up"]),
        single_stream_down=best(runs["single"]),
    )


# --------------------------------------------------------------------------- the client alone


def client_ceiling(data: DataFile) -> tuple[float, float]:
    """MiB/s of the raw client against a loopback sink (upload) and source (download) that do
    nothing else: what the client can do when nothing else is slow."""

    def serve(handler: Callable[[socket.socket], None]) -> tuple[socket.socket, threading.Thread]:
        server = socket.create_server(("127.0.0.1", 0))

        def run() -> None:
            connection, _ = server.accept()
            with connection:
                handler(connection)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return server, thread

    def read_head(connection: socket.socket) -> int:
        head = b""
        while b"\r\n\r\n" not in head:
            head += connection.recv(65536)
        header_block, _, rest = head.partition(b"\r\n\r\n")
        for line in header_block.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                return int(line.split(b":")[1]) - len(rest)
        return 0

    def sink(connection: socket.socket) -> None:
        left = read_head(connection)
        buffer = bytearray(RECV_BUFFER)
        while left > 0:
            left -= connection.recv_into(buffer)
        connection.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    def source(connection: socket.socket) -> None:
        read_head(connection)
        connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {data.size}\r\n\r\n".encode())
        with data.path.open("rb") as stream:
            connection.sendfile(stream)

    server, thread = serve(sink)
    with server:
        began = time.perf_counter()
        RawHTTP(f"http://127.0.0.1:{server.getsockname()[1]}").request("PUT", "/", file=data.path)
        up = time.perf_counter() - began
        thread.join()
    server, thread = serve(source)
    with server:
        hashed = PipelinedHash()
        began = time.perf_counter()
        RawHTTP(f"http://127.0.0.1:{server.getsockname()[1]}").request("GET", "/", sink=hashed.write)
        digest = hashed.hexdigest()
        down = time.perf_counter() - began
        thread.join()
    if digest != data.sha256:
        raise RuntimeError("client self-check: the download's SHA-256 differs")
    return mib_per_s(data.size, up), mib_per_s(data.size, down)


# --------------------------------------------------------------------------- 4 KiB files


@dataclass
class OpsResult:
    ops: int
    seconds: float
    latencies: list[float]
    errors: int = 0
    cpu: CpuUsage | None = None

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000


def small_payload(index: int, size: int) -> bytes:
    return (index.to_bytes(8, "big") * (size // 8 + 1))[:size]


@dataclass(frozen=True)
class SmallTarget:
    """Where the one small-file client sends its requests: the platform through nginx (bearer
    token) or SeaweedFS itself (presigned URLs, signed before the clock starts)."""

    headers: dict[str, str]
    urls: list[str]  # one per file
    warm_url: str  # a cheap GET that opens the pool's connections outside the measurement


def platform_target(session: Session, names: list[str]) -> SmallTarget:
    files = f"{session.stack.url}/users/{session.username}/files"
    return SmallTarget(session.auth, [f"{files}/{name}" for name in names], f"{files}?limit=1")


def direct_target(session: Session, names: list[str], upload: bool) -> SmallTarget:
    def signed(name: str, method: str) -> str:
        params = {"Bucket": session.bucket, "Key": DIRECT_PREFIX + name}
        return session.s3.generate_presigned_url(method, Params=params, ExpiresIn=3600)

    # The warm-up GET may find nothing yet (before the uploads): a 404 opens a connection too.
    warm = signed(names[0], "get_object")
    return SmallTarget({}, [signed(name, "put_object" if upload else "get_object") for name in names], warm)


async def _small_ops(target: SmallTarget, cpu: CpuMeter, size: int, concurrency: int, upload: bool) -> OpsResult:
    """The same client code on both sides: httpx.AsyncClient, a pool of ``concurrency`` keep-alive
    connections, each worker taking the next file until none is left."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=target.headers, limits=limits, timeout=60) as client:
        await asyncio.gather(*(client.get(target.warm_url) for _ in range(concurrency)))
        indexes = iter(range(len(target.urls)))
        latencies: list[float] = []
        errors = 0

        async def worker() -> None:
            nonlocal errors
            for index in indexes:
                url = target.urls[index]
                began = time.perf_counter()
                if upload:
                    response = await client.put(
                        url, content=small_payload(index, size), headers={"Content-Type": "application/octet-stream"}
                    )
                    ok = response.status_code in (200, 201)
                else:
                    response = await client.get(url)
                    ok = response.status_code == 200 and response.content == small_payload(index, size)
                latencies.append(time.perf_counter() - began)
                errors += not ok

        with cpu.measure() as usage:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return OpsResult(len(target.urls), usage.wall, latencies, errors, usage)


def small_ops(target: SmallTarget, cpu: CpuMeter, size: int, concurrency: int, upload: bool) -> OpsResult:
    return asyncio.run(_small_ops(target, cpu, size, concurrency, upload))


@dataclass
class SmallResult:
    size: int
    concurrency: int
    platform_up: OpsResult
    direct_up: OpsResult
    platform_down: OpsResult
    direct_down: OpsResult

    def sides(self) -> list[tuple[str, OpsResult, OpsResult, float]]:
        """(operation, platform, direct, the ratio's goal)."""
        return [
            ("upload (PUT)", self.platform_up, self.direct_up, SMALL_PUT_GOAL),
            ("download (GET)", self.platform_down, self.direct_down, SMALL_GET_GOAL),
        ]


def small_ops_at(concurrency: int, most: int) -> int:
    """Enough files that every client makes a few requests, few enough that one client is quick."""
    return min(most, max(100, 50 * concurrency))


def measure_small(session: Session, cpu: CpuMeter, count: int, size: int, concurrency: int) -> SmallResult:
    names = [f"small-{concurrency}-{index:06d}" for index in range(count)]
    results: dict[str, OpsResult] = {}
    for label, target, upload in (
        ("direct_up", direct_target(session, names, upload=True), True),
        ("platform_up", platform_target(session, names), True),
        ("platform_down", platform_target(session, names), False),
        ("direct_down", direct_target(session, names, upload=False), False),
    ):
        result = small_ops(target, cpu, size, concurrency, upload)
        usage = cpu.net(result.cpu)
        result.cpu = usage
        results[label] = result
        log(
            f"{size} B × {count} at {concurrency:>3} clients {label:<14} {result.rate:7.0f} ops/s"
            f"  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  errors {result.errors}"
            f"  cpu {usage.total * 1000 / count:5.1f} ms/op"
        )
    return SmallResult(size=size, concurrency=concurrency, **results)


# --------------------------------------------------------------------------- resumable upload


@dataclass
class ResumeResult:
    size: int
    full_seconds: float
    first_part_seconds: float
    head_seconds: float
    resume_seconds: float
    cut_at: int
    resumed_from: int
    ok: bool


def tus_headers(session: Session) -> dict[str, str]:
    return session.auth | {"Tus-Resumable": "1.0.0"}


def tus_create(session: Session, size: int, filename: str) -> str:
    metadata = "filename " + base64.b64encode(filename.encode()).decode()
    headers = tus_headers(session) | {"Upload-Length": str(size), "Upload-Metadata": metadata}
    response = expect(session.raw.request("POST", "/uploads/", headers), 201)
    return urlsplit(response.headers["location"]).path


def tus_patch(
    session: Session, location: str, data: DataFile, offset: int, abort_after: int | None = None
) -> RawResponse | None:
    headers = tus_headers(session) | {
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
    }
    return session.raw.request("PATCH", location, headers, file=data.path, offset=offset, abort_after=abort_after)


def tus_offset(session: Session, location: str) -> int:
    response = expect(session.raw.request("HEAD", location, tus_headers(session)), 200)
    return int(response.headers["upload-offset"])


def stored_sha256(session: Session, filename: str) -> str:
    response = session.raw.request("GET", f"/users/{session.username}/files/{filename}/info", session.auth)
    return str(expect(response, 200).json()["sha256"])


def measure_resume(session: Session, data: DataFile) -> ResumeResult:
    began = time.perf_counter()
    location = tus_create(session, data.size, "resume-full.bin")
    expect(tus_patch(session, location, data, 0), 204)
    full = time.perf_counter() - began
    full_ok = stored_sha256(session, "resume-full.bin") == data.sha256
    log(f"tus {human_size(data.size)} in one go     {full:6.1f} s  ({mib_per_s(data.size, full):.1f} MiB/s)")

    cut_at = data.size // 2
    began = time.perf_counter()
    location = tus_create(session, data.size, "resume-cut.bin")
    tus_patch(session, location, data, 0, abort_after=cut_at)
    first = time.perf_counter() - began
    began = time.perf_counter()
    offset = tus_offset(session, location)  # waits until the cut request has stored what arrived
    head = time.perf_counter() - began
    expect(tus_patch(session, location, data, offset), 204)
    resume = time.perf_counter() - began
    ok = full_ok and stored_sha256(session, "resume-cut.bin") == data.sha256
    log(
        f"tus cut at {cut_at / MiB:.0f} MiB after {first:.1f} s; server had {offset / MiB:.1f} MiB;"
        f" the rest took {resume:.1f} s; sha256 ok={ok}"
    )
    return ResumeResult(data.size, full, first, head, resume, cut_at, offset, ok)


def large_section(results: list[LargeResult], ceiling: tuple[float, float] | None, rounds: int) -> Section:
    rows = []
    for result in results:
        for direction, platform_t, direct_t in (
            ("upload", result.platform_up, result.direct_up),
            ("upload ÷ one presigned PUT, same raw client", result.platform_up, result.single_stream_up),
            ("download", result.platform_down, result.direct_down),
            ("download ÷ one presigned GET, same raw client", result.platform_down, result.single_stream_down),
        ):
            platform_rate = mib_per_s(result.size, platform_t.seconds)
            direct_rate = mib_per_s(result.size, direct_t.seconds)
            ratio = platform_rate / direct_rate
            rows.append(
                [
                    f"{human_size(result.size)} {direction}",
                    f"{platform_rate:.1f}",
                    f"{direct_rate:.1f}",
                    f"{ratio:.2f}",
                    verdict(ratio >= RATIO_GOAL),
                    "ok" if platform_t.ok and direct_t.ok else "MISMATCH",
                ]
            )
    notes = [
        "platform: raw PUT / GET through nginx (PUT streamed with sendfile, GET hashed as it arrives);"
        " direct: boto3 upload_fileobj / download_fileobj, default TransferConfig (8 MiB parts, 10 threads),"
        " into a hashing writer.",
        f"best of {rounds} round(s) per figure (the machine is shared; slower rounds measure the neighbours).",
    ]
    notes.append(
        "one presigned PUT / GET: the raw client straight to S3 on one stream (a single-stream upload,"
        " curl -T in effect; the one stream nginx makes for a download): the same client on both sides."
    )
    if ceiling is not None:
        notes.append(
            f"raw client alone against a loopback sink/source: upload {ceiling[0]:.0f} MiB/s,"
            f" download with SHA-256 {ceiling[1]:.0f} MiB/s (so it is not the bottleneck)."
        )
    return Section(
        f"Large files: MiB/s, platform ÷ direct (boto3, or the same raw client on one stream; goal ≥ {RATIO_GOAL})",
        ["transfer", "platform MiB/s", "direct MiB/s", "ratio", "goal met", "sha256"],
        rows,
        notes,
    )


def rss_section(results: list[LargeResult]) -> Section:
    columns = ["part", "idle RSS MiB"]
    for result in results:
        columns += [f"{human_size(result.size)} up", f"{human_size(result.size)} down"]
    columns += [f"goal ≤ {RSS_GOAL_MIB} MiB"]
    rows = []
    for group in MONITORED:
        growths: list[float] = []
        idle = ""
        for result in results:
            for transfer in (result.platform_up, result.platform_down):
                assert transfer.rss is not None
                idle = idle or f"{transfer.rss.before[group] / MiB:.0f}"
                growths.append(transfer.rss.growth_mib(group))
        rows.append([group, idle, *(f"{g:+.1f}" for g in growths), verdict(max(growths) <= RSS_GOAL_MIB)])
    return Section(
        "Peak RSS growth during the platform transfers, MiB (peak − before, process and its children)",
        columns,
        rows,
        [
            f"VmRSS of each process and its children sampled every {RSS_INTERVAL * 1000:.0f} ms; the worst"
            f" round is shown. Measured after a {WARM_UP_MIB} MiB warm-up transfer each way, so that"
            " one-time growth (worker threads' malloc arenas, lazily imported code) is not counted as"
            " streaming memory.",
        ],
    )


def small_section(levels: list[SmallResult]) -> Section:
    rows = []
    for level in levels:
        judged = level.concurrency == SMALL_GOAL_CLIENTS
        for label, platform_r, direct_r, goal in level.sides():
            ratio = platform_r.rate / direct_r.rate
            rows.append(
                [
                    str(level.concurrency),
                    label,
                    str(platform_r.ops),
                    f"{platform_r.rate:.0f}",
                    f"{platform_r.p50_ms:.1f}",
                    f"{platform_r.p99_ms:.1f}",
                    f"{direct_r.rate:.0f}",
                    f"{direct_r.p50_ms:.1f}",
                    f"{direct_r.p99_ms:.1f}",
                    f"{ratio:.2f}",
                    f"≥ {goal}, p99 ≤ {SMALL_P99_GOAL_MS:.0f}" if judged else "",
                    verdict(ratio >= goal and platform_r.p99_ms <= SMALL_P99_GOAL_MS) if judged else "",
                    str(platform_r.errors + direct_r.errors),
                ]
            )
    size = levels[0].size
    return Section(
        f"{size} B files by number of concurrent clients: platform and direct S3, the same client code",
        [
            "clients",
            "operation",
            "files",
            "platform ops/s",
            "p50 ms",
            "p99 ms",
            "direct ops/s",
            "p50 ms",
            "p99 ms",
            "ratio",
            "goal",
            "met",
            "errors",
        ],
        rows,
        [
            "both sides: httpx.AsyncClient with a pool of as many keep-alive connections as clients, each"
            " client taking the next file; platform: PUT/GET /users/{u}/files/{name} through nginx with a"
            " bearer token; direct: PUT/GET of presigned URLs of the same SeaweedFS (signed before the clock"
            " starts).",
            "a platform upload is auth + S3 PUT + metadata commit + event; a download is auth + access"
            " check + presign + download record, then nginx fetches the object from S3.",
        ],
    )


def _cpu_rows(usages: list[CpuUsage], scale: float, digits: int) -> list[list[str]]:
    parts = sorted({name for usage in usages for name in usage.seconds}, key=lambda n: (n == "client", n))
    rows = [[name, *(f"{u.seconds.get(name, 0.0) * scale:.{digits}f}" for u in usages)] for name in parts]
    rows.append(["total", *(f"{u.total * scale:.{digits}f}" for u in usages)])
    rows.append(["cores busy (all, incl. background)", *(f"{(u.gross or u.total) / u.wall:.2f}" for u in usages)])
    return rows


def large_cpu_section(result: LargeResult, idle: dict[str, float]) -> Section:
    transfers = [result.platform_up, result.direct_up, result.platform_down, result.direct_down]
    usages = [t.cpu for t in transfers if t.cpu is not None]
    return Section(
        f"CPU seconds per GiB moved ({human_size(result.size)} transfers), by process tree",
        ["part", "upload platform", "upload direct", "download platform", "download direct"],
        _cpu_rows(usages, GiB / result.size, 2),
        [
            "utime + stime from /proc of each part and its children during the transfer, less what that part"
            " spends while the stack is idle (Spark's micro-batches, SeaweedFS's heartbeats); client = this"
            f" benchmark process (raw client or boto3, plus the RSS sampler). The machine has {os.cpu_count()}"
            " cores: where 'cores busy' nears that, the transfer is CPU-bound and every CPU-second the"
            " platform adds is taken from the S3 server. Other people's processes on a shared machine"
            " take their share too (see the load average under Machine).",
            "idle background taken off, in cores: "
            + (", ".join(f"{name} {rate:.3f}" for name, rate in sorted(idle.items()) if rate >= 0.001) or "none"),
        ],
    )


def small_cpu_section(result: SmallResult) -> Section:
    runs = [result.platform_up, result.direct_up, result.platform_down, result.direct_down]
    usages = [r.cpu for r in runs if r.cpu is not None]
    return Section(
        f"CPU milliseconds per {result.size} B operation, by process tree",
        ["part", "upload platform", "upload direct", "download platform", "download direct"],
        _cpu_rows(usages, 1000 / result.platform_up.ops, 2),
        ["the same accounting as above, divided by the number of operations."],
    )


# --------------------------------------------------------------------------- listing a folder

LISTED_FILES = 1000
LISTINGS = 100
LISTING_P99_GOAL_MS = 50.0


@dataclass
class ListingResult:
    latencies: dict[str, list[float]]  # listing → seconds of each request


async def _measure_listing(session: Session) -> ListingResult:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=session.stack.url, headers=session.auth, limits=limits, timeout=60) as client:
        files = f"/users/{session.username}/files"

        async def put(index: int) -> None:
            response = await client.put(f"{files}/album/photo-{index:04d}.jpg", content=small_payload(index, 512))
            if response.status_code != 201:
                raise RuntimeError(f"upload for the listing: {response.status_code} {response.text[:300]}")

        for start in range(0, LISTED_FILES, 16):
            await asyncio.gather(*(put(i) for i in range(start, min(start + 16, LISTED_FILES))))
        listings = {
            "folder (GET /users/{u}/folders/album?limit=1000)": f"/users/{session.username}/folders/album?limit=1000",
            "prefix (GET /users/{u}/files?prefix=album&limit=1000)": f"{files}?prefix=album&limit=1000",
        }
        latencies: dict[str, list[float]] = {}
        for label, url in listings.items():
            seconds = []
            for _ in range(LISTINGS):
                began = time.perf_counter()
                response = await client.get(url)
                seconds.append(time.perf_counter() - began)
                if response.status_code != 200 or len(response.json()["items"]) != LISTED_FILES:
                    raise RuntimeError(f"{url} did not list {LISTED_FILES} entries: {response.text[:300]}")
            latencies[label] = seconds
        return ListingResult(latencies)


def measure_listing(session: Session) -> ListingResult:
    result = asyncio.run(_measure_listing(session))
    for label, seconds in result.latencies.items():
        log(f"list {LISTED_FILES}: {label} p50 {percentile(seconds, 0.5) * 1000:.1f} ms")
    return result


def listing_section(result: ListingResult) -> Section:
    rows = []
    for label, seconds in result.latencies.items():
        p99 = percentile(seconds, 0.99) * 1000
        rows.append(
            [
                label,
                f"{percentile(seconds, 0.5) * 1000:.1f}",
                f"{p99:.1f}",
                f"≤ {LISTING_P99_GOAL_MS:.0f}",
                verdict(p99 <= LISTING_P99_GOAL_MS),
            ]
        )
    return Section(
        f"Listing a folder of {LISTED_FILES} files, {LISTINGS} requests one after another, ms",
        ["listing", "p50", "p99", "p99 goal", "met"],
        rows,
        ["one keep-alive connection through nginx; each answer checked to hold every entry."],
    )


def resume_section(result: ResumeResult) -> Section:
    resent = result.size - result.resumed_from
    lost = result.cut_at - result.resumed_from
    return Section(
        f"Resume (tus 1.0): a {human_size(result.size)} upload cut at 50 %",
        ["measure", "value"],
        [
            ["whole upload, one PATCH (s)", f"{result.full_seconds:.1f}"],
            ["first half until the cut (s)", f"{result.first_part_seconds:.1f}"],
            ["after the cut: HEAD + PATCH of the rest (s)", f"{result.resume_seconds:.1f}"],
            ["  of which the HEAD (s)", f"{result.head_seconds:.1f}"],
            ["resume ÷ whole upload", f"{result.resume_seconds / result.full_seconds:.2f}"],
            ["first half + resume, all told (s)", f"{result.first_part_seconds + result.resume_seconds:.1f}"],
            ["bytes resent", f"{resent / MiB:.1f} MiB ({resent / result.size:.1%})"],
            ["sent before the cut but not kept", f"{lost / MiB:.1f} MiB"],
            ["sha256 of both stored files", "ok" if result.ok else "MISMATCH"],
        ],
        [
            "the cut resets the TCP connection after exactly half the body (the client has handed it to"
            " the kernel; tens of MiB may still be in socket buffers and the services' pipeline); the HEAD"
            " waits until the interrupted request has stored what arrived. Both uploads end with the server"
            " reading the whole object back once to compute its SHA-256, a fixed cost of the tus path.",
        ],
    )


def summary_section(large: list[LargeResult] | None, small: SmallResult | None, resume: ResumeResult | None) -> Section:
    rows: list[list[str]] = []
    if large:
        biggest = large[-1]
        for direction, platform_t, direct_t in (
            ("upload: platform ÷ boto3", biggest.platform_up, biggest.direct_up),
            ("upload: platform ÷ one presigned PUT (same client)", biggest.platform_up, biggest.single_stream_up),
            ("download: platform ÷ boto3", biggest.platform_down, biggest.direct_down),
        ):
            ratio = direct_t.seconds / platform_t.seconds
            rows.append(
                [
                    f"{human_size(biggest.size)} {direction}",
                    f"{ratio:.2f}",
                    f"≥ {RATIO_GOAL}",
                    verdict(ratio >= RATIO_GOAL),
                ]
            )
        for group in MONITORED:
            growth = max(
                t.rss.growth_mib(group)
                for result in large
                for t in (result.platform_up, result.platform_down)
                if t.rss is not None
            )
            rows.append(
                [
                    f"peak RSS growth, {group} (MiB)",
                    f"{growth:.1f}",
                    f"≤ {RSS_GOAL_MIB}",
                    verdict(growth <= RSS_GOAL_MIB),
                ]
            )
    if small:
        for label, platform_r, direct_r, goal in small.sides():
            ratio = platform_r.rate / direct_r.rate
            name = f"{small.size} B {label} at {small.concurrency} clients"
            rows.append([f"{name}: platform ÷ direct ops/s", f"{ratio:.2f}", f"≥ {goal}", verdict(ratio >= goal)])
            p99 = platform_r.p99_ms
            rows.append(
                [f"{name}: p99 ms", f"{p99:.0f}", f"≤ {SMALL_P99_GOAL_MS:.0f}", verdict(p99 <= SMALL_P99_GOAL_MS)]
            )
    if resume:
        rows.append(
            ["resumed half ÷ whole upload (time)", f"{resume.resume_seconds / resume.full_seconds:.2f}", "", ""]
        )
    return Section("Summary", ["measure", "value", "goal", "met"], rows)


# --------------------------------------------------------------------------- main


def parse_settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"--set wants NAME=VALUE, got {pair!r}")
        settings[name] = value
    return settings


SECTIONS = ("large", "small", "listing", "resume")


@app.command()
def main(
    large_mib: Annotated[int, typer.Option(min=8, help="The large file's size")] = 1024,
    medium_mib: Annotated[int, typer.Option(min=0, help="The second size shown beside it; 0 skips it")] = 100,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds of the large transfers (best is reported)")] = 2,
    small_ops: Annotated[
        int, typer.Option(min=1, help="Most small uploads (and as many downloads) per side and client count")
    ] = 600,
    small_size: Annotated[int, typer.Option(min=1, help="Bytes per small file")] = 4096,
    clients: Annotated[
        list[int] | None, typer.Option(min=1, help="Concurrent clients for small files [1, 8, 32, 128]")
    ] = None,
    resume_mib: Annotated[int | None, typer.Option(help="Size of the resumed upload [--large-mib]")] = None,
    section: Annotated[list[str] | None, typer.Option(help=f"Run only these: {', '.join(SECTIONS)}")] = None,
    settings: Annotated[
        list[str] | None, typer.Option("--set", help="NAME=VALUE for the services, e.g. PART_SIZE_BYTES=16777216")
    ] = None,
    home: Annotated[Path | None, typer.Option(help="StackInfo folder; a stack running there is reused")] = None,
    keep_stack: Annotated[bool, typer.Option(help="Leave the stack running at the end")] = False,
    results: Annotated[Path, typer.Option(help="Where the Markdown report goes")] = DEFAULT_RESULTS,
    write: Annotated[bool, typer.Option(help="Write the report (--no-write: print only)")] = True,
) -> None:
    """Measure LiftBit's transfers against boto3 on the same S3 server; print and write the table."""
    chosen = section or list(SECTIONS)
    if unknown := set(chosen) - set(SECTIONS):
        raise typer.BadParameter(f"unknown section(s) {', '.join(sorted(unknown))}")
    machine = machine_info()
    service_settings = {
        # Room for every file this run stores, whatever the defaults are.
        "DEFAULT_QUOTA_BYTES": str(64 * GiB + 16 * large_mib * MiB),
        "MAX_FILE_SIZE_BYTES": str(max(large_mib, resume_mib or 0, medium_mib, WARM_UP_MIB) * MiB * 2),
        # No expiry sweeps or orphan sweeps in the middle of a measurement.
        "RECONCILE_INTERVAL_SECONDS": "0",
    } | parse_settings(settings or [])
    work = Path(tempfile.mkdtemp(prefix="liftbit-bench-data-"))
    # Test files, and every object stored in SeaweedFS (which refuses writes well before the disk
    # is full): large ones twice per round (platform and direct), the two resumable uploads.
    biggest = max(large_mib, resume_mib or 0) * MiB
    needed = biggest * (2 * rounds + 4) + medium_mib * MiB * (2 * rounds + 1) + 4 * GiB
    free = shutil.disk_usage(work).free
    if free < needed:
        shutil.rmtree(work, ignore_errors=True)
        console.print(
            f"[red]error:[/] {free / GiB:.1f} GiB free under {work.parent}, the run needs ~{needed / GiB:.0f} GiB"
        )
        raise typer.Exit(1)
    sizes = sorted({mib for mib in (medium_mib, large_mib) if mib > 0})
    large: list[LargeResult] | None = None
    ceiling: tuple[float, float] | None = None
    small: SmallResult | None = None
    small_levels: list[SmallResult] = []
    levels = sorted(set(clients or [1, 8, SMALL_GOAL_CLIENTS, 128]))
    resume: ResumeResult | None = None
    listing: ListingResult | None = None
    idle: dict[str, float] = {}
    try:
        log(f"making test files in {work} …")
        files = {
            mib: make_file(work / f"data-{mib}.bin", mib * MiB, seed=mib) for mib in {*sizes, resume_mib or large_mib}
        }
        with throwaway_stack(service_settings, home=home, keep_running=keep_stack) as stack:
            session = open_session(stack)
            log(f"user {session.username} at {stack.url}; S3 {stack.env['S3_ENDPOINT_URL']}")
            cpu = CpuMeter(stack.pids())
            cpu.settle()
            idle = cpu.idle
            if "large" in chosen:
                ceiling = client_ceiling(files[large_mib])
                log(f"raw client alone: upload {ceiling[0]:.0f} MiB/s, download+sha256 {ceiling[1]:.0f} MiB/s")
                # Every pipeline slot, worker thread and lazily imported module is used once before the
                # RSS baseline is taken: first-use growth is not streaming memory.
                warm = make_file(work / "warm.bin", WARM_UP_MIB * MiB, seed=7)
                platform_upload(session, warm, "warm-up.bin")
                platform_download(session, warm, "warm-up.bin")
                direct_upload(session, warm, f"{DIRECT_PREFIX}warm-up.bin")
                direct_download(session, warm, f"{DIRECT_PREFIX}warm-up.bin")
                with RssSampler(stack.pids(MONITORED)) as sampler:
                    probes = Probes(sampler, cpu)
                    large = [measure_large(session, files[mib], probes, rounds) for mib in sizes]
            if "small" in chosen:
                small_levels = [
                    measure_small(session, cpu, small_ops_at(level, small_ops), small_size, level) for level in levels
                ]
                small = next((r for r in small_levels if r.concurrency == SMALL_GOAL_CLIENTS), small_levels[-1])
            if "listing" in chosen:
                listing = measure_listing(session)
            if "resume" in chosen:
                resume = measure_resume(session, files[resume_mib or large_mib])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sections = [summary_section(large, small, resume)]
    if large:
        sections += [large_section(large, ceiling, rounds), rss_section(large), large_cpu_section(large[-1], idle)]
    if small:
        sections += [small_section(small_levels), small_cpu_section(small)]
    if resume:
        sections.append(resume_section(resume))
    if listing:
        sections.append(listing_section(listing))
    console.print()
    for part in sections:
        part.show()
    parameters = (
        f"sizes {', '.join(human_size(s * MiB) for s in sizes)}; up to {small_ops} small files of {small_size} B at"
        f" {', '.join(map(str, levels))} clients; resume size {human_size((resume_mib or large_mib) * MiB)};"
        f" rounds {rounds};"
        f" service settings {' '.join(f'{k}={v}' for k, v in sorted(service_settings.items()))}"
    )
    console.print("Machine: " + "; ".join(f"{k} {v}" for k, v in machine.items()), highlight=False)
    if write and sections:
        intro = (
            "Written by `make bench` (`python -m bench.transfer`). Every figure comes from one run against a"
            " throw-away stack of the real components on this machine; “direct” is boto3 talking to the same"
            " SeaweedFS server in the same run."
        )
        write_results(results, "Transfer benchmark", intro, machine, sections, parameters)
        log(f"written to {results}")


if __name__ == "__main__":
    app()
