"""The rules for usernames and filenames, in one place for every service and the OpenAPI spec."""

from __future__ import annotations

import re
import unicodedata

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{2,31}$"
USERNAME_RULE = "3-32 characters of a-z 0-9 _ . -, starting with a letter or digit"
FILENAME_RULE = (
    "1-255 bytes of UTF-8 (after NFC normalisation), without '/', NUL or control characters, and not '.' or '..'"
)
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
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise InvalidName(f"a filename must not contain control characters (found U+{ord(char):04X})")
    return name
