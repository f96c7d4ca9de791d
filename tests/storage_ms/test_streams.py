"""Unit tests of the stream helpers: measuring, limits, digests and cutting into parts."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from liftbit_common.errors import BadRequest, ChecksumMismatch, PayloadTooLarge
from storage_ms.streams import StreamMeter, fixed_blocks


async def chunks_of(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def collect(stream: AsyncIterator[bytes] | AsyncIterator[bytearray]) -> list[bytes]:
    return [bytes(chunk) async for chunk in stream]


@given(pieces=st.lists(st.binary(max_size=50), max_size=20), size=st.integers(1, 64), head=st.binary(max_size=10))
def test_fixed_blocks_cut_exactly(pieces: list[bytes], size: int, head: bytes) -> None:
    assume(len(head) < size)  # the head is the tail of an unfinished part
    blocks = asyncio.run(collect(fixed_blocks(chunks_of(pieces), size, head=head)))
    assert b"".join(blocks) == head + b"".join(pieces)
    assert all(len(block) == size for block in blocks[:-1])
    assert all(0 < len(block) <= size for block in blocks)


def test_meter_counts_and_hashes() -> None:
    meter = StreamMeter(expected_size=6, expected_sha256=hashlib.sha256(b"abcdef").hexdigest())
    assert asyncio.run(collect(meter.measure(chunks_of([b"abc", b"def"])))) == [b"abc", b"def"]
    meter.verify()
    assert meter.size == 6
    assert meter.sha256 == hashlib.sha256(b"abcdef").hexdigest()


def test_meter_stops_a_body_over_the_limit_while_streaming() -> None:
    seen: list[bytes] = []

    async def run() -> None:
        async for chunk in StreamMeter(max_bytes=5).measure(chunks_of([b"abc", b"def", b"never"])):
            seen.append(chunk)

    with pytest.raises(PayloadTooLarge):
        asyncio.run(run())
    assert seen == [b"abc"]


@pytest.mark.parametrize(
    ("meter", "code"),
    [
        (StreamMeter(expected_size=10), "incomplete_body"),
        (StreamMeter(expected_sha256="0" * 64), "digest_mismatch"),
    ],
)
def test_meter_verify_refuses_short_or_wrong_bodies(meter: StreamMeter, code: str) -> None:
    asyncio.run(collect(meter.measure(chunks_of([b"abc"]))))
    with pytest.raises(BadRequest) as error:
        meter.verify()
    assert error.value.code == code


def test_meter_refuses_a_body_longer_than_declared() -> None:
    with pytest.raises(BadRequest) as error:
        asyncio.run(collect(StreamMeter(expected_size=2).measure(chunks_of([b"abc"]))))
    assert error.value.code == "body_too_long"


@pytest.mark.parametrize("algorithm", ["sha256", "sha1", "md5"])
def test_upload_checksum(algorithm: str) -> None:
    good = StreamMeter(checksum=(algorithm, hashlib.new(algorithm, b"abc").digest()))
    asyncio.run(collect(good.measure(chunks_of([b"a", b"bc"]))))
    good.verify()
    bad = StreamMeter(checksum=(algorithm, hashlib.new(algorithm, b"abd").digest()))
    asyncio.run(collect(bad.measure(chunks_of([b"abc"]))))
    with pytest.raises(ChecksumMismatch) as error:
        bad.verify()
    assert error.value.status_code == 460
