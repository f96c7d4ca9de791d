"""The rules for usernames and filenames, in one place for every service and the OpenAPI spec."""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{2,31}$"
USERNAME_RULE = "3-32 characters of a-z 0-9 _ . -, starting with a letter or digit"
FILENAME_RULE = (
    "1-255 bytes of UTF-8 (after NFC normalisation), without '/', NUL or control characters, without "
    "invisible format characters (bidi controls such as U+202E, zero-width characters, line and "
    "paragraph separators), and not '.' or '..'"
)
# Control (Cc), format (Cf: bidi overrides, zero-width space/joiners, BOM…), surrogate (Cs) and
# line/paragraph separator (Zl, Zp) characters: invisible or reordering, they make one name look
# like another (``invoice\u202egpj.exe`` shows as ``invoiceexe.jpg``).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
MAX_FILENAME_BYTES = 255

_USERNAME_RE = re.compile(USERNAME_PATTERN)


class InvalidName(ValueError):
    """A username or filename breaks its rule; the message says which part."""


def validate_username(value: str) -> str:
    if not _USERNAME_RE.fullmatch(value):
        raise InvalidName(f"{value[:40]!r} is not a valid username: use {USERNAME_RULE}")
    return value


def normalize_filename(value: str) -> str:
    """Return the NFC form of a valid filename, or raise InvalidName saying what is wrong."""
    name = unicodedata.normalize("NFC", value)
    size = len(name.encode("utf-8", errors="surrogatepass"))
    if size == 0:
        raise InvalidName("a filename must not be empty")
    if size > MAX_FILENAME_BYTES:
        raise InvalidName(f"a filename may have at most {MAX_FILENAME_BYTES} bytes of UTF-8, this one has {size}")
    if "/" in name:
        raise InvalidName("a filename must not contain '/'")
    if name in (".", ".."):
        raise InvalidName(f"{name!r} is not allowed as a filename")
    for char in name:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            raise InvalidName(
                f"a filename must not contain control characters or invisible formatting (found U+{ord(char):04X})"
            )
    return name


@cache
def filename_pattern() -> str:
    """FILENAME_RULE's characters as a regular expression, for the OpenAPI schema (the byte
    limit and NFC are in the description: a pattern cannot say them). Surrogates are left out:
    no UTF-8 text holds one."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if chr(code) == "/" or (category in REFUSED_CATEGORIES and category != "Cs"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))

    def escaped(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    refused = "".join(escaped(a) if a == b else f"{escaped(a)}-{escaped(b)}" for a, b in ranges)
    return f"^(?!\\.\\.?$)[^{refused}]+$"
