"""The rules for usernames and filenames, in one place for every service and the OpenAPI spec."""

from __future__ import annotations

import re
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
PATH_RULE = (
    "segments separated by '/', each following the filename rule; inside a folder, 'info' and "
    "'permissions' are not names (they would make /users/{owner}/files/x/info mean two things)"
)
# Names that would collide with the routes …/files/{path}/info and …/files/{path}/permissions.
RESERVED_IN_FOLDER = frozenset({"info", "permissions"})

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


def normalize_path(value: str) -> str:
    """Return the NFC form of a valid path (``photos/2024/a.jpg``), or raise InvalidName."""
    segments = value.split("/")
    if len(segments) > 1 and "" in segments:
        raise InvalidName("a path must not have an empty segment (a leading, trailing or double '/')")
    names = [normalize_filename(segment) for segment in segments]
    for name in names[1:]:
        if name in RESERVED_IN_FOLDER:
            raise InvalidName(
                f"{name!r} is not a valid name inside a folder: …/files/{{path}}/{name} is a route of its own"
            )
    return "/".join(names)


def parent_and_name(path: str) -> tuple[str | None, str]:
    """``("photos/2024", "a.jpg")`` for ``photos/2024/a.jpg``; ``(None, "a.jpg")`` at the top."""
    parent, _, name = path.rpartition("/")
    return (parent or None), name


def path_depth(path: str) -> int:
    return path.count("/") + 1


@cache
def _refused_class() -> str:
    """The characters no name may hold ('/' and FILENAME_RULE's categories), as the inside of a
    regular-expression class in ECMA-262's dialect (OpenAPI's; Swagger UI checks parameters with
    it before sending). Surrogates are left out: no UTF-8 text holds one. So are the few refused
    characters beyond U+FFFF (format controls such as U+E0001): without the ``u`` flag such a
    pattern cannot name them (Python's ``\\U0001…`` read as ECMA-262 is the letters U, 0, 1 … and
    refused "report.txt"); the server refuses them all the same."""
    ranges: list[tuple[int, int]] = []
    for code in range(0xFFFF + 1):
        category = unicodedata.category(chr(code))
        if chr(code) == "/" or (category in REFUSED_CATEGORIES and category != "Cs"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


def filename_pattern() -> str:
    """FILENAME_RULE's characters as a regular expression, for the OpenAPI schema (the byte
    limit and NFC are in the description: a pattern cannot say them)."""
    return f"^(?!\\.\\.?$)[^{_refused_class()}]+$"


def path_pattern() -> str:
    """PATH_RULE as a regular expression for the OpenAPI schema: segments under the filename rule,
    joined by '/' (the depth, byte and reserved-name limits are in the description)."""
    segment = f"(?!\\.\\.?(?:/|$))[^{_refused_class()}]+"
    return f"^{segment}(?:/{segment})*$"
