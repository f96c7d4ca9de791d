#!/usr/bin/env python3
"""Upload files to LiftBit with a progress bar; interrupted uploads resume where they stopped.

    scripts/upload.py --user alice report.pdf photos/*.jpg
    LIFTBIT_PASSWORD=... scripts/upload.py --url http://files.example:3000 --user alice big.iso

Uploads use the tus 1.0 protocol (the official tus Python client); the upload URLs are remembered
in ~/.cache/liftbit/uploads.json, so running the same command again after a cut connection, a
crash or Ctrl-C sends only the bytes the server does not have yet. Each finished file's FileInfo
is printed as JSON.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import IO, Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.fingerprint.fingerprint import Fingerprint
from tusclient.storage.filestorage import FileStorage
from tusclient.uploader.uploader import Uploader

MiB = 1024 * 1024
RESUME_STORE = Path.home() / ".cache" / "liftbit" / "uploads.json"

console = Console(stderr=True)


class UploadError(Exception):
    """Something the user can act on; the message says what."""


def server_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def login(client: httpx.Client, username: str, password: str) -> str:
    try:
        response = client.post("/auth/token", data={"username": username, "password": password})
    except httpx.HTTPError as exc:
        raise UploadError(f"cannot reach LiftBit at {client.base_url}: {exc}") from exc
    if response.status_code != 200:
        raise UploadError(f"login failed: {server_message(response)}")
    return str(response.json()["access_token"])


class UploadKey(Fingerprint):
    """Remembers uploads per server, user and file (tus's default keys on content alone)."""

    def __init__(self, url: str, username: str, path: Path) -> None:
        self._scope = f"{url}|{username}|{path.resolve()}|"

    def get_fingerprint(self, fs: IO[bytes]) -> str:
        return self._scope + str(super().get_fingerprint(fs))


def resumable_uploader(tus: TusClient, path: Path, key: UploadKey, chunk_size: int, store: FileStorage) -> Uploader:
    metadata = {
        "filename": path.name,
        "filetype": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
    }
    options: dict[str, Any] = {
        "file_path": str(path),
        "chunk_size": chunk_size,
        "metadata": metadata,
        "store_url": True,
        "url_storage": store,
        "fingerprinter": key,
        "retries": 5,
        "retry_delay": 2,
    }
    try:
        return tus.uploader(**options)
    except TusCommunicationError:
        # The remembered upload expired or is gone: start this file afresh.
        with path.open("rb") as stream:
            store.remove_item(key.get_fingerprint(stream))
        return tus.uploader(**options)


def upload_file(
    client: httpx.Client, tus: TusClient, path: Path, username: str, chunk_size: int, store: FileStorage
) -> dict[str, Any]:
    key = UploadKey(str(tus.url), username, path)
    uploader = resumable_uploader(tus, path, key, chunk_size, store)
    size = uploader.get_file_size()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        resumed_at = uploader.offset
        task = progress.add_task(path.name + (" (resumed)" if resumed_at else ""), total=size, completed=resumed_at)
        try:
            if not uploader.url:
                uploader.set_url(uploader.create_url())
            while uploader.offset < size:
                uploader.upload_chunk()
                progress.update(task, completed=uploader.offset)
        except (TusCommunicationError, TusUploadFailed) as exc:
            detail = exc.response_content.decode(errors="replace") if getattr(exc, "response_content", None) else exc
            raise UploadError(f"{path.name}: upload stopped at {uploader.offset} of {size} bytes: {detail}") from exc
    with path.open("rb") as stream:
        store.remove_item(key.get_fingerprint(stream))
    info = client.get(f"/users/{username}/files/{path.name}/info")
    if info.status_code != 200:
        raise UploadError(f"{path.name}: uploaded, but reading its FileInfo failed: {server_message(info)}")
    return dict(info.json())


def main(
    files: Annotated[list[Path], typer.Argument(help="Files to upload, each under its own name")],
    user: Annotated[str, typer.Option("--user", "-u", envvar="LIFTBIT_USER", help="Your LiftBit username")],
    url: Annotated[str, typer.Option(envvar="LIFTBIT_URL", help="LiftBit's address")] = "http://localhost:3000",
    password: Annotated[
        str | None, typer.Option(envvar="LIFTBIT_PASSWORD", help="Asked for when not given", show_default=False)
    ] = None,
    chunk_mib: Annotated[int, typer.Option(min=5, help="MiB sent per request")] = 16,
) -> None:
    """Upload FILES into your LiftBit namespace, resuming any upload that was interrupted."""
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        console.print(f"[red]error:[/] not a file: {', '.join(missing)}")
        raise typer.Exit(2)
    password = password or typer.prompt(f"Password for {user}", hide_input=True)
    RESUME_STORE.parent.mkdir(parents=True, exist_ok=True)
    store = FileStorage(str(RESUME_STORE))
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            token = login(client, user, password)
            client.headers["Authorization"] = f"Bearer {token}"
            tus = TusClient(f"{url.rstrip('/')}/uploads/", headers={"Authorization": f"Bearer {token}"})
            for path in files:
                info = upload_file(client, tus, path, user, chunk_mib * MiB, store)
                print(json.dumps(info), flush=True)
    except UploadError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    finally:
        store.close()


if __name__ == "__main__":
    typer.run(main)
