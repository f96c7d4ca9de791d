"""Where the server is and who the user is: the server URL, saved sessions, the resume state."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

import typer
from dotenv import dotenv_values
from pydantic import BaseModel, TypeAdapter, ValidationError

DEFAULT_URL = "http://localhost:3000"
# The checkout this package runs from (an editable install): its `make up` stack is the default.
REPO_ROOT = Path(__file__).resolve().parents[1]


def stack_env_candidates() -> list[Path]:
    """`$LIFTBIT_HOME/stack.env` when LIFTBIT_HOME is set, else the current dir's and the repo's `.liftbit/`."""
    home = os.environ.get("LIFTBIT_HOME")
    if home:
        return [Path(home) / "stack.env"]
    return [Path.cwd() / ".liftbit" / "stack.env", REPO_ROOT / ".liftbit" / "stack.env"]


def server_url(given: str | None) -> str:
    """--url / LIFTBIT_URL, else the running stack's LIFTBIT_URL from its stack.env, else localhost:3000."""
    if given:
        return given.rstrip("/")
    for env_file in stack_env_candidates():
        try:
            url = dotenv_values(env_file).get("LIFTBIT_URL") if env_file.is_file() else None
        except OSError:  # stack.env is mode 600: another user's stack is not ours to use
            url = None
        if url:
            return url.rstrip("/")
    return DEFAULT_URL


def config_dir() -> Path:
    """The user's config dir for liftbit ($XDG_CONFIG_HOME/liftbit, i.e. ~/.config/liftbit on Linux)."""
    return Path(typer.get_app_dir("liftbit"))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the user only (mode 600), replacing it atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(text)
    os.replace(temporary, path)


class Session(BaseModel):
    url: str
    username: str
    token: str
    expires_at: datetime


SESSIONS = TypeAdapter(dict[str, Session])


class SessionStore:
    """Bearer tokens from `liftbit login`, one per server URL, in sessions.json (mode 600)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "sessions.json"

    def _load(self) -> dict[str, Session]:
        try:
            return SESSIONS.validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except ValidationError:  # written by another version or damaged: as if logged out
            return {}

    def get(self, url: str) -> Session | None:
        return self._load().get(url)

    def save(self, session: Session) -> None:
        sessions = self._load() | {session.url: session}
        write_private(self.path, SESSIONS.dump_json(sessions, indent=2).decode())

    def remove(self, url: str) -> None:
        sessions = self._load()
        if sessions.pop(url, None) is not None:
            write_private(self.path, SESSIONS.dump_json(sessions, indent=2).decode())


class ResumeStore:
    """The tus upload URL of each unfinished upload, one small file per upload, so that running the
    same `put` again (also several at once) continues where the last one stopped."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "uploads"

    def _path(self, key: str) -> Path:
        return self.directory / hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> str | None:
        try:
            return self._path(key).read_text().strip() or None
        except FileNotFoundError:
            return None

    def put(self, key: str, location: str) -> None:
        write_private(self._path(key), location)

    def forget(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
