"""Large and careful transfers: digests, short bodies, ranges, conditionals, limits, atomic replace,
constant memory."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

from scripts.stack.info import StackInfo
from tests.support.http import content, error_of, put
from tests.support.users import User

MiB = 1024 * 1024


def test_digest_mismatch_is_400_and_keeps_the_previous_version(api: httpx.Client, alice: User) -> None:
    put(api, alice, "d.txt", b"original")
    wrong = hashlib.sha256(b"something else").hexdigest()
    for headers in (
        {"X-Checksum-SHA256": wrong},
        {"X-Checksum-SHA256": base64.b64encode(bytes.fromhex(wrong)).decode()},
        {"Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(wrong)).decode()}:"},
    ):
        response = put(api, alice, "d.txt", b"replacement", **headers)
        assert response.status_code == 400, headers
        assert error_of(response)[0] == "digest_mismatch"
    large = put(api, alice, "d.txt", content(20 * MiB), **{"X-Checksum-SHA256": wrong})  # multipart path
    assert large.status_code == 400
    assert api.get(f"/users/{alice.name}/files/d.txt", headers=alice.auth).content == b"original"


def test_a_matching_digest_is_accepted(api: httpx.Client, alice: User) -> None:
    body = content(12 * MiB)
    digest = hashlib.sha256(body).hexdigest()
    response = put(api, alice, "ok.bin", body, **{"X-Checksum-SHA256": digest})
    assert response.status_code == 201
    assert response.json()["sha256"] == digest


def test_sizes_around_the_part_size_store_every_byte(api: httpx.Client, alice: User) -> None:
    """One PUT below a part (8 MiB on the test stack), a one-part multipart upload at exactly one,
    and multipart uploads with a short and with a full last part."""
    for size in (8 * MiB - 1, 8 * MiB, 8 * MiB + 1, 16 * MiB):
        body = content(size, seed=size)
        stored = put(api, alice, f"edge-{size}.bin", body)
        assert stored.status_code == 201, (size, stored.text)
        assert stored.json()["size"] == size
        assert stored.json()["sha256"] == hashlib.sha256(body).hexdigest()
        fetched = api.get(f"/users/{alice.name}/files/edge-{size}.bin", headers=alice.auth)
        assert fetched.status_code == 200
        assert fetched.content == body, size


def raw_request(stack: StackInfo, head: bytes, body: bytes, *, close_write: bool) -> bytes:
    url = urlsplit(stack.url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as connection:
        connection.sendall(head + body)
        if close_write:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    return answer


def test_a_short_body_stores_nothing(api: httpx.Client, stack: StackInfo, alice: User) -> None:
    put(api, alice, "short.txt", b"previous")
    for declared, sent in ((100, 50), (30 * MiB, 10 * MiB)):
        head = (
            f"PUT /users/{alice.name}/files/short.txt HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {alice.token}\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        ).encode()
        answer = raw_request(stack, head, content(sent), close_write=True)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:200]
    time.sleep(0.5)
    assert api.get(f"/users/{alice.name}/files/short.txt", headers=alice.auth).content == b"previous"


def test_every_range_form(api: httpx.Client, alice: User) -> None:
    body = content(3 * MiB + 17)
    size = len(body)
    put(api, alice, "r.bin", body)
    url = f"/users/{alice.name}/files/r.bin"
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=1000-": (1000, size - 1),
        "bytes=-500": (size - 500, size - 1),
        f"bytes={size - 10}-{size + 100}": (size - 10, size - 1),
        f"bytes={MiB}-{2 * MiB}": (MiB, 2 * MiB),
    }
    for header, (start, end) in cases.items():
        response = api.get(url, headers=alice.auth | {"Range": header})
        assert response.status_code == 206, header
        assert response.content == body[start : end + 1], header
        assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert response.headers["content-length"] == str(end - start + 1)
    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0"):
        unsatisfiable = api.get(url, headers=alice.auth | {"Range": header})
        assert unsatisfiable.status_code == 416, header
        assert unsatisfiable.headers["content-range"] == f"bytes */{size}"
        assert error_of(unsatisfiable)[0] == "range_not_satisfiable"
    for ignored in ("bytes=0-1,5-6", "lines=1-2", "bytes=9-3"):
        whole = api.get(url, headers=alice.auth | {"Range": ignored})
        assert whole.status_code == 200, ignored
        assert whole.content == body


def test_if_range_serves_the_whole_file_when_it_changed(api: httpx.Client, alice: User) -> None:
    put(api, alice, "ir.txt", b"0123456789")
    etag = api.head(f"/users/{alice.name}/files/ir.txt", headers=alice.auth).headers["etag"]
    same = api.get(f"/users/{alice.name}/files/ir.txt", headers=alice.auth | {"Range": "bytes=0-1", "If-Range": etag})
    assert same.status_code == 206
    assert same.content == b"01"
    changed = api.get(
        f"/users/{alice.name}/files/ir.txt", headers=alice.auth | {"Range": "bytes=0-1", "If-Range": '"stale"'}
    )
    assert changed.status_code == 200
    assert changed.content == b"0123456789"


def test_conditional_requests(api: httpx.Client, alice: User) -> None:
    info = put(api, alice, "c.txt", b"cached").json()
    etag = f'"{info["sha256"]}"'
    url = f"/users/{alice.name}/files/c.txt"
    not_modified = api.get(url, headers=alice.auth | {"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert api.get(url, headers=alice.auth | {"If-None-Match": '"other"'}).status_code == 200
    assert api.get(url, headers=alice.auth | {"If-Match": etag}).content == b"cached"
    failed = api.get(url, headers=alice.auth | {"If-Match": '"other"'})
    assert failed.status_code == 412
    assert error_of(failed)[0] == "precondition_failed"


def test_quota_is_enforced_before_and_while_streaming_and_reported(
    api: httpx.Client, stack: StackInfo, alice: User
) -> None:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as db:
        db.execute("UPDATE users SET quota_bytes = %s WHERE username = %s", (10 * MiB, alice.name))
    assert put(api, alice, "a.bin", content(6 * MiB)).status_code == 201
    declared = put(api, alice, "b.bin", content(6 * MiB))  # Content-Length known: refused up front
    assert declared.status_code == 413
    assert error_of(declared)[0] == "quota_exceeded"

    def chunked() -> Iterator[bytes]:
        for _ in range(12):
            yield content(MiB)

    streamed = api.put(f"/users/{alice.name}/files/c.bin", content=chunked(), headers=alice.auth)
    assert streamed.status_code == 413  # no length declared: stopped once the stream passed the quota
    assert error_of(streamed)[0] == "quota_exceeded"
    # A replacement keeps the replaced content as a version, which counts: 6 + 3 MiB fit, 2 more do not.
    assert put(api, alice, "a.bin", content(3 * MiB)).status_code == 200
    assert put(api, alice, "a.bin", content(2 * MiB)).status_code == 413
    usage = api.get(f"/users/{alice.name}", headers=alice.auth).json()
    assert usage["used_bytes"] == 9 * MiB
    assert usage["quota_bytes"] == 10 * MiB
    assert usage["file_count"] == 1
    names = [i["filename"] for i in api.get(f"/users/{alice.name}/files", headers=alice.auth).json()["items"]]
    assert names == ["a.bin"]


def test_files_over_the_size_limit_are_refused_before_streaming(stack: StackInfo, alice: User) -> None:
    too_big = 3 * 1024**3 + 1  # the test stack's MAX_FILE_SIZE_BYTES is 3 GiB
    head = (
        f"PUT /users/{alice.name}/files/huge.iso HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {alice.token}\r\n"
        f"Content-Length: {too_big}\r\n\r\n"
    ).encode()
    answer = raw_request(stack, head, b"just the start", close_write=False)
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line, answer[:300]
    assert b'"file_too_large"' in rest
    assert str(3 * 1024**3).encode() in rest


def test_a_download_running_while_the_file_is_replaced_gets_the_whole_old_content(
    stack: StackInfo, api: httpx.Client, alice: User
) -> None:
    old, new = content(40 * MiB, seed=1), content(40 * MiB, seed=2)
    put(api, alice, "atomic.bin", old)
    received = bytearray()
    first_bytes = threading.Event()

    def slow_download() -> None:
        with (
            httpx.Client(base_url=stack.url, timeout=60) as client,
            client.stream("GET", f"/users/{alice.name}/files/atomic.bin", headers=alice.auth) as response,
        ):
            for chunk in response.iter_bytes(256 * 1024):
                received.extend(chunk)
                first_bytes.set()
                time.sleep(0.005)

    reader = threading.Thread(target=slow_download)
    reader.start()
    assert first_bytes.wait(10)
    assert put(api, alice, "atomic.bin", new).status_code == 200
    reader.join(60)
    assert bytes(received) == old
    assert api.get(f"/users/{alice.name}/files/atomic.bin", headers=alice.auth).content == new


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children."""
    total = 0
    for task in [pid, *child_pids(pid)]:
        for line in Path(f"/proc/{task}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def test_memory_stays_flat_while_streaming_a_large_file(stack: StackInfo, api: httpx.Client, alice: User) -> None:
    size = 512 * MiB
    bound = 96 * MiB  # each service's RSS growth: far below the file size
    pids = {part: int((stack.home / "run" / f"{part}.pid").read_text()) for part in ("files_ms", "storage_ms")}
    baseline = {part: rss_kib(pid) for part, pid in pids.items()}
    peak = dict(baseline)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for part, pid in pids.items():
                peak[part] = max(peak[part], rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    chunk = content(MiB)
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        for _ in range(size // MiB):
            digest.update(chunk)
            yield chunk

    try:
        uploaded = api.put(
            f"/users/{alice.name}/files/big.bin", content=body(), headers=alice.auth | {"Content-Length": str(size)}
        )
        assert uploaded.status_code == 201
        downloaded = hashlib.sha256()
        with api.stream("GET", f"/users/{alice.name}/files/big.bin", headers=alice.auth) as response:
            for piece in response.iter_bytes(4 * MiB):
                downloaded.update(piece)
    finally:
        done.set()
        sampler.join()
    assert uploaded.json()["sha256"] == digest.hexdigest() == downloaded.hexdigest()
    growth = {part: (peak[part] - baseline[part]) * 1024 for part in pids}
    assert all(g < bound for g in growth.values()), {p: g // MiB for p, g in growth.items()}
