"""Pure helpers over byte streams: measuring and checking a body, and cutting it into S3 parts."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator

from liftbit_common.errors import BadRequest, ChecksumMismatch, ErrorCode, PayloadTooLarge


class StreamMeter:
    """Counts and hashes a body as it passes; enforces the size limits while streaming."""

    def __init__(
        self,
        *,
        max_bytes: int | None = None,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
        checksum: tuple[str, bytes] | None = None,
    ) -> None:
        self.size = 0
        self._max_bytes = max_bytes
        self._expected_size = expected_size
        self._expected_sha256 = expected_sha256
        self._sha256 = hashlib.sha256()
        self._checksum_expected = checksum[1] if checksum else None
        self._checksum = hashlib.new(checksum[0]) if checksum and checksum[0] != "sha256" else None

    async def measure(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.size += len(chunk)
            if self._max_bytes is not None and self.size > self._max_bytes:
                raise PayloadTooLarge(f"body exceeds the limit of {self._max_bytes} bytes", code=ErrorCode.TOO_LARGE)
            if self._expected_size is not None and self.size > self._expected_size:
                raise BadRequest(
                    f"body is longer than the declared {self._expected_size} bytes", code=ErrorCode.BODY_TOO_LONG
                )
            self._sha256.update(chunk)
            if self._checksum is not None:
                self._checksum.update(chunk)
            yield chunk

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def verify(self) -> None:
        """Raise unless the whole body arrived and matches the digests the client announced."""
        if self._expected_size is not None and self.size != self._expected_size:
            raise BadRequest(
                f"body ended after {self.size} of the declared {self._expected_size} bytes",
                code=ErrorCode.INCOMPLETE_BODY,
            )
        if self._expected_sha256 is not None and self.sha256 != self._expected_sha256:
            raise BadRequest(
                f"SHA-256 of the body is {self.sha256}, the client declared {self._expected_sha256}",
                code=ErrorCode.DIGEST_MISMATCH,
            )
        if self._checksum_expected is not None:
            actual = (self._checksum or self._sha256).digest()
            if actual != self._checksum_expected:
                raise ChecksumMismatch("Upload-Checksum does not match the bytes received")


async def fixed_blocks(chunks: AsyncIterable[bytes], block_size: int, head: bytes = b"") -> AsyncIterator[bytearray]:
    """Re-cut a stream into blocks of exactly ``block_size`` bytes; only the last may be shorter.
    ``head`` is prepended (the stored tail of an earlier, unaligned resumable-upload request).
    Pieces are only referenced until a block is complete, then joined: each byte is copied once,
    into a block allocated at its final size. Blocks are bytearrays on purpose: boto3 wraps a
    ``bytes`` body in BytesIO and sends it 16 KiB at a time (plus an Expect: 100-continue round
    trip), while a bytearray goes out in one sendall."""
    pending: list[bytes | memoryview] = [head] if head else []
    size = len(head)
    async for chunk in chunks:
        view = memoryview(chunk)
        while size + len(view) >= block_size:
            take = block_size - size
            pending.append(view[:take])
            block = bytearray().join(pending)
            pending.clear()  # before yielding: the consumer may hold the block a while
            size = 0
            view = view[take:]
            yield block
        if view:
            pending.append(view)
            size += len(view)
    if pending:
        block = bytearray().join(pending)
        pending.clear()
        yield block
