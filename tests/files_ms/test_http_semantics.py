"""Unit tests of the pure HTTP rules: ranges, conditionals, digests, Content-Disposition."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from files_ms.service.http_semantics import (
    ByteRange,
    content_disposition,
    entity_tag,
    expected_sha256,
    if_match_fails,
    if_none_match_hits,
    if_range_allows,
    parse_range,
)
from liftbit_common.errors import BadRequest, RangeNotSatisfiable


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-4", 10, ByteRange(0, 4)),
        ("bytes=2-", 10, ByteRange(2, 9)),
        ("bytes=-3", 10, ByteRange(7, 9)),
        ("bytes=-30", 10, ByteRange(0, 9)),
        ("bytes=5-100", 10, ByteRange(5, 9)),
        ("bytes=9-9", 10, ByteRange(9, 9)),
        ("bytes = 1 - 2", 10, ByteRange(1, 2)),
        (None, 10, None),
        ("", 10, None),
        ("items=0-4", 10, None),  # unknown unit: ignored
        ("bytes=0-1,4-5", 10, None),  # several ranges: served whole
        ("bytes=5-2", 10, None),  # invalid: ignored
        ("bytes=abc", 10, None),
        ("bytes=-", 10, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=-0", 10), ("bytes=0-", 0)]
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as error:
        parse_range(header, size)
    assert error.value.headers["Content-Range"] == f"bytes */{size}"


@given(size=st.integers(1, 10**12), start=st.integers(0, 10**12), length=st.integers(1, 10**12))
def test_a_satisfiable_range_stays_inside_the_file(size: int, start: int, length: int) -> None:
    header = f"bytes={start}-{start + length - 1}"
    if start >= size:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, size)
        return
    byte_range = parse_range(header, size)
    assert byte_range is not None
    assert 0 <= byte_range.start <= byte_range.end < size
    assert byte_range.length == min(length, size - start)
    assert byte_range.content_range(size) == f"bytes {byte_range.start}-{byte_range.end}/{size}"


def test_conditionals() -> None:
    tag = entity_tag("ab" * 32)
    assert tag == f'"{"ab" * 32}"'
    assert not if_match_fails(None, tag)
    assert not if_match_fails(tag, tag)
    assert not if_match_fails("*", tag)
    assert not if_match_fails(f'"other", {tag}', tag)
    assert if_match_fails('"other"', tag)
    assert if_match_fails(f"W/{tag}", tag)  # If-Match compares strongly
    assert if_none_match_hits(tag, tag)
    assert if_none_match_hits(f"W/{tag}", tag)  # If-None-Match compares weakly
    assert if_none_match_hits("*", tag)
    assert not if_none_match_hits('"other"', tag)
    assert not if_none_match_hits(None, tag)
    assert if_range_allows(None, tag)
    assert if_range_allows(tag, tag)
    assert not if_range_allows('"old"', tag)
    assert not if_range_allows("Tue, 24 Nov 2026 12:00:00 GMT", tag)


def test_expected_sha256_accepts_hex_base64_and_repr_digest() -> None:
    digest = hashlib.sha256(b"hello").digest()
    assert expected_sha256(digest.hex().upper(), None) == digest.hex()
    assert expected_sha256(base64.b64encode(digest).decode(), None) == digest.hex()
    repr_digest = f"sha-512=:{base64.b64encode(b'x' * 64).decode()}:, sha-256=:{base64.b64encode(digest).decode()}:"
    assert expected_sha256(None, repr_digest) == digest.hex()
    assert expected_sha256(None, None) is None


@pytest.mark.parametrize(("checksum", "repr_digest"), [("abc", None), ("ZZZZ", None), (None, "md5=:abc=:")])
def test_malformed_digests_are_400(checksum: str | None, repr_digest: str | None) -> None:
    with pytest.raises(BadRequest):
        expected_sha256(checksum, repr_digest)


def test_content_disposition_has_an_ascii_fallback_and_the_exact_name() -> None:
    assert content_disposition("plain.txt") == "attachment; filename=\"plain.txt\"; filename*=UTF-8''plain.txt"
    header = content_disposition('naïve "quote".txt')
    assert header.startswith('attachment; filename="na_ve _quote_.txt"')
    assert header.endswith("filename*=UTF-8''na%C3%AFve%20%22quote%22.txt")
