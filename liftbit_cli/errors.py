"""What the CLI says when something goes wrong: one line, and an exit status per kind of failure."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit statuses of `liftbit` (the README lists them)."""

    OK = 0
    USAGE = 1  # bad arguments or input the server refused (400, 422)
    AUTH = 2  # not logged in, wrong password, expired session, no right to do it (401, 403, 429 on login)
    NOT_FOUND = 3  # no such file or user, or one you may not read (404)
    TOO_LARGE = 4  # over the quota or the size limit (413)
    UNAVAILABLE = 5  # the server cannot be reached or a part of it is down (network error, 5xx)
    CONFLICT = 6  # the target exists or changed meanwhile (409, 412)
    CORRUPT = 7  # the bytes received or stored do not match their SHA-256
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class CliError(Exception):
    """A failure the user can act on; the message says what happened and, where it helps, what to do."""

    def __init__(self, exit_code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
