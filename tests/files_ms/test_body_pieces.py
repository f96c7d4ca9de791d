"""How request bodies are cut on their way on: part-sized segments for tus progress, and the
coalescing that sends a slow client's first bytes at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from files_ms.api.deps import coalesced
from files_ms.service.resumable import Segments


async def pieces(*chunks: bytes, pause: float = 0.0) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(pause)
        yield chunk


def test_segments_cut_a_body_at_the_lengths_asked_for() -> None:
    async def scenario() -> list[bytes]:
        segments = Segments(pieces(b"abc", b"defgh", b"ij"))
        cut = []
        while await segments.has_more():
            cut.append(b"".join([piece async for piece in segments.take(4)]))
        return cut

    assert asyncio.run(scenario()) == [b"abcd", b"efgh", b"ij"]


def test_coalescing_sends_the_first_bytes_at_once_and_never_holds_them_long() -> None:
    async def scenario() -> list[bytes]:
        # 10 small chunks 0.1 s apart: without the time limit they would wait for 1 MiB (the end).
        return [piece async for piece in coalesced(pieces(*[b"x"] * 10, pause=0.1), flush_seconds=0.25)]

    sent = asyncio.run(scenario())
    assert sent[0] == b"x"  # the first chunk goes on alone, at once
    assert len(sent) >= 4 and b"".join(sent) == b"x" * 10
