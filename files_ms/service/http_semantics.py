"""HTTP rules for downloads and uploads (RFC 9110 ranges and conditionals, digests), as pure functions."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass
from urllib.parse import quote

from liftbit_common.errors import BadRequest, InvalidInput, RangeNotSatisfiable

_RANGE_RE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
_REPR_DIGEST_RE = re.compile(r"sha-256=:([A-Za-z0-9+/=]+):")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def header_value(self) -> str:
        return f"bytes={self.start}-{self.end}"

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range a Range header asks for; None means send the whole file.
    Unknown units, malformed and multi-range headers are ignored, as RFC 9110 allows;
    a range beyond the end raises 416."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE_RE.match(spec)
    if match is None or not (match[1] or match[2]):
        return None
    first, last = match[1], match[2]
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None
        if start >= size:
            raise unsatisfiable(size)
        return ByteRange(start, end)
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise unsatisfiable(size)
    return ByteRange(max(0, size - suffix), size - 1)


def unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"the file has {size} bytes; the requested range lies outside it",
        headers={"Content-Range": f"bytes */{size}"},
    )


def entity_tag(sha256: str) -> str:
    return f'"{sha256}"'


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def if_match_fails(header: str | None, etag: str) -> bool:
    """If-Match with a strong comparison: true when the precondition fails (412)."""
    if header is None:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" not in tags and etag not in tags


def if_none_match_hits(header: str | None, etag: str) -> bool:
    """If-None-Match with a weak comparison: true when the client's copy is current (304)."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or etag in tags


def if_range_allows(header: str | None, etag: str) -> bool:
    """A Range applies only if If-Range (when present) names the current entity tag."""
    return header is None or header.strip() == etag


_MEDIA_TYPE_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;[ -~]*)?$")


def media_type(header: str | None) -> str:
    """The Content-Type to store and serve back; octet-stream when none was given."""
    value = (header or "").strip()
    if not value:
        return "application/octet-stream"
    if len(value) > 255 or not _MEDIA_TYPE_RE.match(value):
        raise InvalidInput(
            f"Content-Type {value[:60]!r} is not a media type like text/plain", code="invalid_content_type"
        )
    return value


# Python's own table only, not the machine's /etc/mime.types: the same guess on every machine.
_MIME_TYPES = mimetypes.MimeTypes()
# What curl sends with --data-binary when told no type: never what a file is.
CURL_FORM_DEFAULT = "application/x-www-form-urlencoded"


def stored_media_type(header: str | None, filename: str, *, raw_body: bool = False) -> str:
    """The Content-Type to store: the client's, unless it sent none (or, on a raw body, curl's
    form default); then the guess from the name's extension, else octet-stream."""
    value = (header or "").strip()
    if value and not (raw_body and value.split(";", 1)[0].strip().lower() == CURL_FORM_DEFAULT):
        return media_type(value)
    guessed, _ = _MIME_TYPES.guess_type(filename, strict=False)
    return guessed or "application/octet-stream"


def content_disposition(filename: str) -> str:
    """attachment, with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 8187)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def expected_sha256(x_checksum_sha256: str | None, repr_digest: str | None) -> str | None:
    """The SHA-256 a client announced (hex or base64 ``X-Checksum-SHA256``, or RFC 9530
    ``Repr-Digest: sha-256=:…:``), as lower-case hex."""
    if x_checksum_sha256:
        value = x_checksum_sha256.strip()
        if re.fullmatch(r"[0-9a-fA-F]{64}", value):
            return value.lower()
        return _base64_sha256(value, "X-Checksum-SHA256")
    if repr_digest:
        match = _REPR_DIGEST_RE.search(repr_digest)
        if match is None:
            raise BadRequest("Repr-Digest carries no sha-256 digest", code="invalid_digest")
        return _base64_sha256(match[1], "Repr-Digest")
    return None


def _base64_sha256(value: str, header: str) -> str:
    try:
        digest = base64.b64decode(value, validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 32:
        raise BadRequest(f"{header} must be a SHA-256 digest in hex or base64", code="invalid_digest")
    return digest.hex()
