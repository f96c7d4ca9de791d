"""The `liftbit` command: log in once, then put, get, list, share and remove files from a shell."""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.filesize import pick_unit_and_suffix
from rich.table import Table

from liftbit_cli.api import Api
from liftbit_cli.config import ResumeStore, Session, SessionStore, config_dir, server_url
from liftbit_cli.errors import CliError, ExitCode
from liftbit_cli.transfer import (
    Interrupted,
    Remote,
    Throttle,
    Transfers,
    Upload,
    download,
    progress_display,
    sha256_of_file,
    upload,
)
from liftbit_common.contracts import (
    AdminUser,
    CreatedLink,
    FileInfo,
    FolderInfo,
    LinkInfo,
    LinkTotals,
    NewApiToken,
    NewInvite,
    NewLink,
    NodeStats,
    PasswordChange,
    PasswordReset,
    Role,
    TrashEntry,
    UserStats,
    WindowTotals,
)

EPILOG = (
    "Exit status: 0 ok, 1 usage or bad input, 2 not logged in / wrong password / not allowed, 3 not found, "
    "4 over the quota or the size limit, 5 server unreachable or unavailable, 6 conflict, "
    "7 SHA-256 mismatch, 130 interrupted (Ctrl-C)."
)
app = typer.Typer(
    name="liftbit",
    help="LiftBit from the command line: log in once, then put, get, list, find, move, share and remove files.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
PASSWORD_ENV = "LIFTBIT_PASSWORD"
TOKEN_ENV = "LIFTBIT_TOKEN"  # an API token (POST /users/{u}/api-tokens): scripts need no login
Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class Cli:
    """What every command shares: where the server is, whom to act as, where to print."""

    url: str
    user: str | None
    out: Console
    err: Console
    sessions: SessionStore
    resume: ResumeStore

    def password(self, username: str) -> str:
        """LIFTBIT_PASSWORD, else a line of piped input, else asked without echo."""
        if given := os.environ.get(PASSWORD_ENV):
            return given
        if not sys.stdin.isatty():
            return sys.stdin.readline().rstrip("\r\n")
        return str(typer.prompt(f"Password for {username}", hide_input=True))

    @contextmanager
    def signed_in(self) -> Iterator[tuple[Api, str]]:
        """An Api with LIFTBIT_TOKEN (an API token), else the saved session's token; with --user
        and no session of that user, a token for this command only (password from
        LIFTBIT_PASSWORD or asked), revoked at the end."""
        if api_token := os.environ.get(TOKEN_ENV):
            with Api(self.url, api_token) as api:
                yield api, api.me().username
            return
        session = self.sessions.get(self.url)
        one_shot = self.user is not None and (session is None or session.username != self.user)
        if self.user is not None and one_shot:
            with Api(self.url) as anonymous:
                username, token = self.user, anonymous.login(self.user, self.password(self.user)).access_token
        elif session is None:
            raise CliError(ExitCode.AUTH, f"not logged in to {self.url}: run `liftbit login`")
        elif session.expires_at <= datetime.now(UTC):
            raise CliError(ExitCode.AUTH, f"your session on {self.url} expired: run `liftbit login`")
        else:
            username, token = session.username, session.token
        with Api(self.url, token) as api:
            try:
                yield api, username
            finally:
                if one_shot:
                    with suppress(CliError):  # the command's own outcome is what matters
                        api.logout()


def cli_of(ctx: typer.Context) -> Cli:
    cli = ctx.find_object(Cli)
    assert cli is not None, "the app callback sets it"
    return cli


@app.callback()
def connect(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            envvar="LIFTBIT_URL",
            help="LiftBit's address [default: LIFTBIT_URL of the running stack's stack.env, else http://localhost:3000]",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            "-u",
            envvar="LIFTBIT_USER",
            help=f"Act as this user for one command (password from {PASSWORD_ENV}, else asked), without `login`",
            show_default=False,
        ),
    ] = None,
) -> None:
    directory = config_dir()
    ctx.obj = Cli(
        url=server_url(url),
        user=user,
        out=Console(markup=False, highlight=False, soft_wrap=True),
        err=Console(stderr=True, markup=False, highlight=False, soft_wrap=True),
        sessions=SessionStore(directory),
        resume=ResumeStore(directory),
    )


def counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def size_text(size: int) -> str:
    units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
    unit, suffix = pick_unit_and_suffix(size, units, 1024)
    return f"{size:,} bytes" if unit == 1 else f"{size / unit:.1f} {suffix}"


Node = FileInfo | FolderInfo


def node_table(nodes: list[Node], *, full_paths: bool, with_owner: bool = False) -> Table:
    """Folders as ``name/`` with their item count and total size; files with their type."""
    table = Table(box=None, pad_edge=False)
    if with_owner:
        table.add_column("owner")
    table.add_column("path" if full_paths else "name", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("modified (UTC)")
    table.add_column("type")
    for node in nodes:
        if isinstance(node, FolderInfo):
            name, size, kind = (
                (node.path if full_paths else node.name) + "/",
                node.total_size,
                f"{node.item_count} items",
            )
        else:
            name, size, kind = (node.path if full_paths else node.filename), node.size, node.content_type
        row = [name, size_text(size), node.updated_at.strftime("%Y-%m-%d %H:%M"), kind]
        table.add_row(*([node.owner] if with_owner else []), *row)
    return table


def print_nodes(cli: Cli, nodes: list[Node], as_json: bool, *, full_paths: bool, with_owner: bool = False) -> None:
    if as_json:
        for node in nodes:
            print(node.model_dump_json(), flush=True)
    elif nodes:
        cli.out.print(node_table(nodes, full_paths=full_paths, with_owner=with_owner))


JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object (FileInfo, FolderInfo…) per line")]


@app.command()
def login(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Argument(help="Your username [default: --user, else asked]")] = None,
) -> None:
    """Log in and keep the token in your config dir (mode 600) for the next commands."""
    cli = cli_of(ctx)
    username = username or cli.user or str(typer.prompt("Username"))
    with Api(cli.url) as api:
        issued = api.login(username, cli.password(username))
    expires_at = datetime.now(UTC) + timedelta(seconds=issued.expires_in)
    cli.sessions.save(Session(url=cli.url, username=username, token=issued.access_token, expires_at=expires_at))
    cli.err.print(f"logged in to {cli.url} as {username} until {expires_at:%Y-%m-%d %H:%M} UTC")


@app.command()
def logout(ctx: typer.Context) -> None:
    """Revoke the saved token and forget it."""
    cli = cli_of(ctx)
    session = cli.sessions.get(cli.url)
    if session is None:
        cli.err.print(f"not logged in to {cli.url}")
        return
    with Api(cli.url, session.token) as api:
        try:
            api.logout()
        except CliError as exc:
            if exc.exit_code != ExitCode.AUTH:  # an expired token needs no revoking
                raise
    cli.sessions.remove(cli.url)
    cli.err.print(f"logged out {session.username} from {cli.url}")


@app.command()
def whoami(ctx: typer.Context) -> None:
    """Who you are logged in as, your files and your storage used against your quota."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        user = api.user(username)
    quota = "no quota"
    if user.quota_bytes:
        quota = f"of {size_text(user.quota_bytes)} ({100 * user.used_bytes / user.quota_bytes:.1f} %)"
    files = counted(user.file_count, "file")
    cli.out.print(f"{user.username} on {cli.url}: {files}, {size_text(user.used_bytes)} used {quota}")


FolderArgument = Annotated[str | None, typer.Argument(help="A folder, e.g. photos/2024 [default: the top]")]


@app.command("ls")
def list_folder(
    ctx: typer.Context,
    folder: FolderArgument = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Every file below, with its path")] = False,
    as_json: JsonOption = False,
) -> None:
    """List the files and folders in a folder (or, with -r, every file below it)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        nodes: list[Node] = list(api.files(username, prefix=folder) if recursive else api.children(username, folder))
    print_nodes(cli, nodes, as_json, full_paths=recursive)


@app.command()
def find(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="A part of the name, any case")],
    folder: Annotated[str | None, typer.Option("--in", help="Only below this folder")] = None,
    in_shared: Annotated[bool, typer.Option("--shared", help="In what others shared with you instead")] = False,
    as_json: JsonOption = False,
) -> None:
    """Find your files (or, with --shared, files and folders shared with you) whose name contains TEXT."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        found: list[Node] = []
        found += api.shared_with(username, text) if in_shared else api.files(username, prefix=folder, query=text)
    print_nodes(cli, found, as_json, full_paths=True, with_owner=in_shared)


@app.command()
def mkdir(ctx: typer.Context, folders: Annotated[list[str], typer.Argument(help="Folders, e.g. photos/2024")]) -> None:
    """Create folders (and any missing folder above them)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        for path in folders:
            cli.out.print(f"created {api.make_folder(username, path).path}/")


@app.command("mv")
def move(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A file or folder")],
    target: Annotated[str, typer.Argument(help="Its new path; ending in / moves it into that folder")],
) -> None:
    """Move or rename a file or folder (metadata only: nothing is copied; grants and versions follow)."""
    cli = cli_of(ctx)
    if target.endswith("/"):
        target += source.rstrip("/").rpartition("/")[2]
    with cli.signed_in() as (api, username):
        moved = api.move(username, source, target)
    cli.out.print(f"moved {source} to {moved.path}")


def parse_rate(text: str | None) -> int | None:
    """`500K`, `20M`, `1G` or a number of bytes, per second."""
    if text is None:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise typer.BadParameter("give bytes per second, e.g. 500K, 20M or 1G", param_hint="--limit-rate")
    return int(float(match[1]) * 1024 ** " KMG".index(match[2].upper() or " "))


MAX_ROWS = 8  # with more transfers than this, a finished one's progress row goes and a total row counts them


def run_transfers(
    cli: Cli,
    api: Api,
    username: str,
    items: list[Item],
    action: Callable[[Transfers, Item], Result],
    report: Callable[[Item, Result], None],
    *,
    jobs: int,
    rate: int | None,
) -> None:
    """Run ``action`` on every item, ``jobs`` at a time, under one progress display. A failed item is
    reported and the others go on (the exit status is the first failure's); Ctrl-C stops them all."""
    cancel = threading.Event()
    failures: list[CliError] = []
    with progress_display(cli.err) as progress:
        transfers = Transfers(api, username, progress, cancel, Throttle(rate), keep_rows=len(items) <= MAX_ROWS)
        total = None if transfers.keep_rows else progress.add_task(counted(len(items), "file"), total=None)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures: dict[Future[Result], Item] = {pool.submit(action, transfers, item): item for item in items}
            try:
                for future in as_completed(futures):
                    try:
                        report(futures[future], future.result())
                    except CliError as exc:
                        if len(items) > 1:
                            progress.console.print(f"error: {exc.message}", markup=False)
                        failures.append(exc)
                    if total is not None:
                        progress.update(total, total=len(items), advance=1)
            except (KeyboardInterrupt, Interrupted) as exc:
                cancel.set()
                for future in futures:
                    future.cancel()
                unfinished = sum(1 for future in futures if not future.done() or future.cancelled())
                raise CliError(
                    ExitCode.INTERRUPTED,
                    f"interrupted, {unfinished} of {len(items)} unfinished: run the same command again to resume",
                ) from exc
    if len(items) == 1 and failures:
        raise failures[0]
    if failures:
        raise CliError(failures[0].exit_code, f"{len(failures)} of {len(items)} failed (see above)")


JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=1, max=32, help="Transfers at once")]
RateOption = Annotated[
    str | None,
    typer.Option("--limit-rate", help="At most this many bytes per second in all, e.g. 20M", show_default=False),
]


def joined(folder: str | None, name: str) -> str:
    return f"{folder.strip('/')}/{name}" if folder else name


@dataclass
class UploadPlan:
    """What `put` sends: files with their remote paths, empty folders to create, and for `-r` what
    is already there (path → FileInfo), so that unchanged files are not sent again."""

    uploads: list[Upload]
    empty_folders: list[str]
    roots: list[str]


def plan_uploads(paths: list[Path], folder: str | None, recursive: bool) -> UploadPlan:
    plan = UploadPlan(uploads=[], empty_folders=[], roots=[])
    for path in paths:
        if path.is_file():
            plan.uploads.append(Upload(local=path, remote=joined(folder, path.name)))
        elif path.is_dir() and recursive:
            root = joined(folder, path.resolve().name)
            plan.roots.append(root)
            for directory, subfolders, names in os.walk(path):
                subfolders.sort()
                relative = Path(directory).relative_to(path).as_posix()
                base = root if relative == "." else f"{root}/{relative}"
                files = [Path(directory) / name for name in sorted(names) if (Path(directory) / name).is_file()]
                plan.uploads.extend(Upload(local=file, remote=f"{base}/{file.name}") for file in files)
                if not subfolders and not files:
                    plan.empty_folders.append(base)
        elif path.is_dir():
            raise CliError(ExitCode.USAGE, f"{path}: a folder (upload it with `liftbit put -r`)")
        else:
            raise CliError(ExitCode.USAGE, f"{path}: not a file")
    return plan


def files_below(api: Api, username: str, roots: list[str]) -> dict[str, FileInfo]:
    known: dict[str, FileInfo] = {}
    for root in roots:
        try:
            known |= {file.path: file for file in api.files(username, prefix=root)}
        except CliError as exc:
            if exc.exit_code != ExitCode.NOT_FOUND:  # a folder that does not exist yet holds nothing
                raise
    return known


@app.command()
def put(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files (and with -r folders) to upload")],
    recursive: Annotated[
        bool,
        typer.Option("--recursive", "-r", help="Folders with everything below them; unchanged files are skipped"),
    ] = False,
    folder: Annotated[str | None, typer.Option("--to", help="Into this folder [default: the top]")] = None,
    jobs: JobsOption = 4,
    limit_rate: RateOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload files (resumable: after Ctrl-C or a cut connection, the same command continues)."""
    cli, rate = cli_of(ctx), parse_rate(limit_rate)
    plan = plan_uploads(paths, folder, recursive)

    def send(transfers: Transfers, job: Upload) -> tuple[FileInfo, bool]:
        there = known.get(job.remote)
        if there is not None and there.size == job.local.stat().st_size and sha256_of_file(job.local) == there.sha256:
            return there, False
        return upload(transfers, cli.resume, job), True

    def uploaded(job: Upload, result: tuple[FileInfo, bool]) -> None:
        info, sent = result
        if as_json:
            print(info.model_dump_json(), flush=True)
        elif sent:
            cli.out.print(f"uploaded {info.path} ({size_text(info.size)}, sha256 {info.sha256[:16]}…)")
        else:
            cli.out.print(f"unchanged {info.path}")

    with cli.signed_in() as (api, username):
        known = files_below(api, username, plan.roots)
        for empty in plan.empty_folders:
            api.make_folder(username, empty)
        run_transfers(cli, api, username, plan.uploads, send, uploaded, jobs=jobs, rate=rate)


@app.command()
def get(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Files to download")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Whose files (one who shared them with you) [default: yours]")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="A folder, or with one file the file's new local name")
    ] = Path(),
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="That version (see `liftbit versions`)")
    ] = None,
    jobs: JobsOption = 4,
    limit_rate: RateOption = None,
) -> None:
    """Download files (resumable from NAME.part; the SHA-256 is checked before NAME appears)."""
    cli, rate = cli_of(ctx), parse_rate(limit_rate)
    if len(paths) > 1 and not output.is_dir():
        raise CliError(ExitCode.USAGE, f"{output}: not a folder (needed for several files)")

    def destination(path: str) -> Path:
        return output / path.rpartition("/")[2] if output.is_dir() else output

    def fetch(transfers: Transfers, path: str) -> FileInfo:
        file = transfers.api.info(owner or transfers.username, path)
        remote = Remote.current(file)
        if version is not None:
            chosen = next((v for v in transfers.api.versions(file) if v.version == version), None)
            if chosen is None:
                raise CliError(ExitCode.NOT_FOUND, f"{path}: no version {version} (see `liftbit versions {path}`)")
            remote = Remote.version(file, chosen)
        download(transfers, remote, destination(path))
        return file

    def fetched(path: str, file: FileInfo) -> None:
        cli.out.print(f"downloaded {path} to {destination(path)} (SHA-256 verified)")

    with cli.signed_in() as (api, username):
        run_transfers(cli, api, username, paths, fetch, fetched, jobs=jobs, rate=rate)


@app.command("rm")
def remove(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Files (and with -r folders)")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Folders too, with all below them")] = False,
) -> None:
    """Move files or folders to the trash (`liftbit trash` lists it, `liftbit restore` brings them back)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        for path in paths:
            try:
                api.delete(username, path)
            except CliError as exc:
                if not recursive or exc.exit_code != ExitCode.NOT_FOUND:
                    raise
                api.delete_folder(username, path)
            cli.out.print(f"moved {path} to the trash")


def trash_table(entries: list[TrashEntry]) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("id", "path", "size", "deleted (UTC)"):
        table.add_column(column, overflow="fold", justify="right" if column == "size" else "left")
    for entry in entries:
        path = entry.path + ("/" if entry.type == "folder" else "")
        table.add_row(entry.id, path, size_text(entry.size), entry.deleted_at.strftime("%Y-%m-%d %H:%M"))
    return table


def trash_entry(entries: list[TrashEntry], target: str) -> TrashEntry:
    """The entry with this id, else the most recently deleted one from this path."""
    for entry in entries:  # newest first
        if target in (entry.id, entry.path):
            return entry
    raise CliError(ExitCode.NOT_FOUND, f"{target}: not in the trash (see `liftbit trash`)")


TrashTargets = Annotated[list[str], typer.Argument(help="Original paths or trash ids (see `liftbit trash`)")]


@app.command()
def trash(
    ctx: typer.Context,
    purge: Annotated[
        list[str] | None, typer.Option("--purge", help="Delete this entry for good (path or id; repeatable)")
    ] = None,
    empty: Annotated[bool, typer.Option("--empty", help="Delete everything in the trash for good")] = False,
    as_json: JsonOption = False,
) -> None:
    """What you deleted, newest first; --purge or --empty deletes it for good (the trash counts toward your quota)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        entries = list(api.trash(username))
        if empty:
            api.purge(username, None)
            cli.out.print(f"emptied the trash: {len(entries):,} deleted for good")
            return
        for target in purge or []:
            api.purge(username, trash_entry(entries, target))
            cli.out.print(f"purged {target}")
    if purge:
        return
    if as_json:
        for entry in entries:
            print(entry.model_dump_json(), flush=True)
    elif entries:
        cli.out.print(trash_table(entries))


@app.command()
def restore(ctx: typer.Context, targets: TrashTargets) -> None:
    """Put files or folders from the trash back where they were."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        entries = list(api.trash(username))
        for target in targets:
            cli.out.print(f"restored {api.restore(username, trash_entry(entries, target)).path}")


@app.command()
def versions(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Your file")],
    restore_version: Annotated[
        int | None, typer.Option("--restore", min=1, help="Make this version current again (as a new version)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The earlier contents of a file, newest first (`liftbit get PATH --version N` downloads one)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        file = api.info(username, path)
        if restore_version is not None:
            restored = api.restore_version(file, restore_version)
            cli.out.print(f"{path}: version {restore_version} is current again (sha256 {restored.sha256[:16]}…)")
            return
        found = api.versions(file)
    if as_json:
        for version in found:
            print(version.model_dump_json(), flush=True)
        return
    table = Table(box=None, pad_edge=False)
    for column in ("version", "size", "sha256", "created (UTC)", ""):
        table.add_column(column, justify="right" if column in ("version", "size") else "left")
    for version in found:
        created = version.created_at.strftime("%Y-%m-%d %H:%M:%S")
        mark = "current" if version.current else ""
        table.add_row(str(version.version), size_text(version.size), version.sha256[:16] + "…", created, mark)
    cli.out.print(table)


Grantees = Annotated[list[str], typer.Argument(help="Usernames")]
OwnFile = Annotated[str, typer.Argument(help="Your file or folder")]


def change_grants(ctx: typer.Context, name: str, users: list[str], *, allow: bool) -> None:
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        for grantee in users:
            if allow:
                api.grant(username, name, grantee)
                cli.out.print(f"{grantee} may now download {name} (`liftbit get --owner {username} {name}`)")
            else:
                api.revoke(username, name, grantee)
                cli.out.print(f"{grantee} may no longer download {name}")


@app.command()
def share(ctx: typer.Context, name: OwnFile, users: Grantees) -> None:
    """Let other users read one of your files, or everything below one of your folders."""
    change_grants(ctx, name, users, allow=True)


@app.command()
def unshare(ctx: typer.Context, name: OwnFile, users: Grantees) -> None:
    """Take back other users' right to read one of your files or folders."""
    change_grants(ctx, name, users, allow=False)


@app.command()
def grants(ctx: typer.Context, name: OwnFile) -> None:
    """Who may read one of your files or folders, one username per line."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        for grantee in api.grantees(username, name):
            print(grantee, flush=True)


@app.command()
def shared(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Files other users shared with you (download one with `liftbit get --owner OWNER NAME`)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        print_nodes(cli, api.shared_with(username), as_json, full_paths=True, with_owner=True)


link_app = typer.Typer(
    help="Share links: a URL that lets people without an account download a file or a folder, or upload into one.",
    no_args_is_help=True,
)
app.add_typer(link_app, name="link")
SPAN = re.compile(r"(\d+)\s*([mhdw])")
SPAN_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_moment(text: str, *, option: str, ago: bool = False) -> datetime:
    """`30m`, `12h`, `7d`, `2w` from now (``ago``: before now), or an ISO 8601 time (without an
    offset: your local time)."""
    if match := SPAN.fullmatch(text.strip()):
        span = timedelta(seconds=int(match[1]) * SPAN_SECONDS[match[2]])
        return datetime.now(UTC) - span if ago else datetime.now(UTC) + span
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter("give a span such as 7d, 12h or 30m, or an ISO 8601 time", param_hint=option) from None
    return moment if moment.tzinfo else moment.astimezone()


def print_table(console: Console, table: Table) -> None:
    """A table of ids: in a pipe (a script, grep) at its natural width, so that no id is cut or
    wrapped; in a terminal fitted to it (the id columns do not wrap)."""
    if console.is_terminal:
        console.print(table)
        return
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    Console(file=console.file, width=natural, markup=False, highlight=False).print(table)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def link_state(link: LinkInfo) -> str:
    if link.expires_at is not None and link.expires_at <= datetime.now(UTC):
        return "expired"
    if link.max_downloads is not None and link.downloads >= link.max_downloads:
        return "used up"
    return "active"


def link_terms(link: LinkInfo) -> str:
    terms = [f"expires {utc_text(link.expires_at)} UTC" if link.expires_at else "never expires"]
    if link.max_downloads is not None:
        terms.append(f"at most {counted(link.max_downloads, 'download')}")
    terms.append("password required" if link.has_password else "no password")
    if link.upload_only:
        terms.append("upload only")
    return ", ".join(terms)


def link_password(password: str | None, ask: bool) -> str | None:
    if password is not None and ask:
        raise CliError(ExitCode.USAGE, "give either --password or --password-prompt, not both")
    if ask and not sys.stdin.isatty():  # piped, as `login` takes it: one line, no confirmation
        return sys.stdin.readline().rstrip("\r\n")
    if ask:
        return str(typer.prompt("Link password", hide_input=True, confirmation_prompt=True))
    return password


@link_app.command("create")
def create_link(
    ctx: typer.Context,
    path: OwnFile,
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="When it stops working: 7d, 12h, 30m from now, or an ISO 8601 time"),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="Recipients must give it (8+ characters; --password-prompt keeps it off the command line)",
        ),
    ] = None,
    ask_password: Annotated[bool, typer.Option("--password-prompt", help="Ask for the password, without echo")] = False,
    max_downloads: Annotated[
        int | None, typer.Option("--max-downloads", min=1, help="Completed downloads allowed, then it answers 410")
    ] = None,
    upload_only: Annotated[
        bool, typer.Option("--upload-only", help="On a folder: recipients upload into it and see nothing")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The created link (token included) as one JSON object")
    ] = False,
) -> None:
    """Create a share link to one of your files or folders; its URL and token are shown this once only."""
    cli = cli_of(ctx)
    expires_at = parse_moment(expires, option="--expires") if expires else None
    secret = link_password(password, ask_password)
    try:
        wanted = NewLink(expires_at=expires_at, password=secret, max_downloads=max_downloads, upload_only=upload_only)
    except ValidationError as exc:  # e.g. a password of under 8 characters: said before anything is sent
        problem = exc.errors()[0]
        raise CliError(ExitCode.USAGE, f"{path}: {problem['loc'][0]}: {problem['msg']}") from None
    with cli.signed_in() as (api, username):
        node = api.node(username, path)
        link = api.create_link(node, wanted)
    if as_json:
        print(link.model_dump_json(), flush=True)
    else:
        print_created_link(cli, node, link)
    cli.err.print("The URL and token will not be shown again (LiftBit keeps only a hash of the token): copy them now.")


def print_created_link(cli: Cli, node: Node, link: CreatedLink) -> None:
    cli.out.print(f"created link {link.id} to {node.path}: {link_terms(link)}")
    cli.out.print(f"url:      {link.url}")
    if isinstance(node, FileInfo):  # the bytes themselves, for curl or wget (the url is the recipient's page)
        cli.out.print(f"download: {link.url.rstrip('/')}/download")
    cli.out.print(f"token:    {link.token}")


@link_app.command("ls")
def list_links(ctx: typer.Context, path: OwnFile, as_json: JsonOption = False) -> None:
    """The share links of one of your files or folders, with how often each was downloaded."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        links = api.links(api.node(username, path))
    if as_json:
        for link in links:
            print(link.model_dump_json(), flush=True)
        return
    if not links:
        cli.err.print(f"{path} has no share links (`liftbit link create {path}` makes one)")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "created (UTC)", "expires (UTC)", "downloads", "password", "upload only", "state"):
        table.add_column(column, justify="right" if column == "downloads" else "left", no_wrap=column == "id")
    for link in links:
        downloads = f"{link.downloads}/{link.max_downloads}" if link.max_downloads is not None else str(link.downloads)
        expires = utc_text(link.expires_at) if link.expires_at else "never"
        yes_no = ("yes" if link.has_password else "no", "yes" if link.upload_only else "no")
        table.add_row(link.id, utc_text(link.created_at), expires, downloads, *yes_no, link_state(link))
    print_table(cli.out, table)


@link_app.command("rm")
def remove_link(
    ctx: typer.Context, link_ids: Annotated[list[str], typer.Argument(help="Link ids (see `liftbit link ls`)")]
) -> None:
    """Revoke share links: their URLs answer 410 Gone from now on."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, _):
        for link_id in link_ids:
            api.revoke_link(link_id)
            cli.out.print(f"revoked link {link_id}")


def stats_table(columns: list[str], rows: list[list[str]]) -> Table:
    """The first column names the row, the others are figures."""
    table = Table(box=None, pad_edge=False)
    for index, column in enumerate(columns):
        table.add_column(column, justify="right" if index else "left", no_wrap=not index)
    for row in rows:
        table.add_row(*row)
    return table


ALERT = "many addresses"  # the leak alert: one link downloaded from more addresses than usual in one window


def figures(totals: WindowTotals | LinkTotals) -> list[str]:
    return [
        f"{totals.downloads:,}",
        size_text(totals.bytes),
        f"{totals.addresses:,}",
        ALERT if totals.alert else "",
    ]


def print_node_stats(cli: Cli, path: str, found: NodeStats) -> None:
    cli.out.print(f"{path}: {counted(found.downloads, 'download')}, {size_text(found.bytes)}")
    columns = ["downloads", "bytes", "addresses", ""]
    if found.windows:
        rows = [
            [f"{utc_text(window.window_start)}–{window.window_end.astimezone(UTC):%H:%M}", *figures(window)]
            for window in found.windows
        ]
        print_table(cli.out, stats_table(["window (UTC)", *columns], rows))
    if found.links:
        rows = [[f"link {link.link_id}", *figures(link)] for link in found.links]
        print_table(cli.out, stats_table(["through", *columns], rows))


def print_user_stats(cli: Cli, username: str, found: UserStats) -> None:
    cli.out.print(f"{username}: {counted(found.downloads, 'download')}, {size_text(found.bytes)}")
    if found.top_files:
        rows = [
            [file.path or f"(gone for good, id {file.file_id})", f"{file.downloads:,}", size_text(file.bytes)]
            for file in found.top_files
        ]
        print_table(cli.out, stats_table(["most downloaded", "downloads", "bytes"], rows))


@app.command()
def stats(
    ctx: typer.Context,
    path: Annotated[str | None, typer.Argument(help="Your file or folder [default: all your files]")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From then: 7d, 12h, 30m ago, or an ISO 8601 time")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to then, the same way")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Without PATH: how many top files")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="The server's answer as one JSON object")] = False,
) -> None:
    """Downloads and bytes served: of one file (by 5-minute window and by share link; a folder:
    through its links), or of all your files with the most downloaded ones. Counted by the analytics
    job, seconds after the download."""
    cli = cli_of(ctx)
    moments = {"since": since, "until": until}
    window = {
        name: parse_moment(text, option=f"--{name}", ago=True).astimezone(UTC).isoformat()
        for name, text in moments.items()
        if text
    }
    with cli.signed_in() as (api, username):
        found: NodeStats | UserStats
        if path is None:
            found = api.user_stats(username, window, limit)
        else:
            found = api.node_stats(api.node(username, path), window)
    if as_json:
        print(found.model_dump_json(), flush=True)
    elif isinstance(found, NodeStats):
        print_node_stats(cli, path or "", found)
    else:
        print_user_stats(cli, username, found)


def new_password() -> str:
    """The next piped line, or asked twice without echo."""
    if sys.stdin.isatty():
        return str(typer.prompt("New password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@app.command()
def password(
    ctx: typer.Context,
    reset: Annotated[
        str | None, typer.Option("--reset", metavar="CODE", help="A reset code an administrator gave you")
    ] = None,
) -> None:
    """Change your password: the current one from LIFTBIT_PASSWORD, a piped line or a prompt, the
    new one from the next piped line or a prompt (twice). Your other sessions and API tokens are
    revoked. With --reset CODE (no login needed): set a new password with an administrator's
    single-use reset code; every session and API token of the account is revoked."""
    cli = cli_of(ctx)
    try:
        if reset is not None:
            with Api(cli.url) as anonymous:
                anonymous.reset_password(PasswordReset(token=reset, new_password=new_password()))
            cli.err.print("password set; log in with it (`liftbit login`)")
            return
        with cli.signed_in() as (api, username):
            current = cli.password(username)
            api.change_password(username, PasswordChange(current_password=current, new_password=new_password()))
    except ValidationError as exc:
        raise CliError(ExitCode.USAGE, f"new password: {exc.errors()[0]['msg']}") from None
    cli.err.print(f"password of {username} changed; your other sessions and API tokens were revoked")


tokens_app = typer.Typer(help="API tokens for scripts (LIFTBIT_TOKEN=… liftbit …).", no_args_is_help=True)
app.add_typer(tokens_app, name="token")


@tokens_app.command("create")
def create_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What it is for, e.g. backup-script")],
    read_only: Annotated[bool, typer.Option("--read-only", help="Scope read: it may only read")] = False,
    expires: Annotated[str | None, typer.Option(help="7d, 12h, 30m or an ISO time [default: never]")] = None,
) -> None:
    """Create an API token and print it (shown this once)."""
    cli = cli_of(ctx)
    expires_at = parse_moment(expires, option="--expires") if expires else None
    with cli.signed_in() as (api, username):
        created = api.create_api_token(
            username, NewApiToken(name=name, scope="read" if read_only else "full", expires_at=expires_at)
        )
    cli.err.print(f"API token {created.name} ({created.scope}, id {created.id}); it is shown this once:")
    cli.out.print(created.token)


@tokens_app.command("list")
def list_tokens(ctx: typer.Context) -> None:
    """Your API tokens (never the tokens themselves)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        tokens = api.api_tokens(username)
    table = Table("id", "name", "scope", "created", "last used", "expires", box=None)
    for token in tokens:
        last_used = utc_text(token.last_used_at) if token.last_used_at else "never"
        expires = utc_text(token.expires_at) if token.expires_at else "never"
        table.add_row(token.id, token.name, token.scope, utc_text(token.created_at), last_used, expires)
    print_table(cli.out, table)


@tokens_app.command("revoke")
def revoke_token(
    ctx: typer.Context, token_id: Annotated[str, typer.Argument(help="The id `token list` shows")]
) -> None:
    """Revoke an API token."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        api.revoke_api_token(username, token_id)
    cli.err.print(f"API token {token_id} revoked")


admin_app = typer.Typer(
    help="Administration (admins only): users, quotas, invites, resets, audit.", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")
SIZE = re.compile(r"(\d+)\s*([kmgt]?)i?b?", re.IGNORECASE)
SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
UserArgument = Annotated[str, typer.Argument(help="The username")]


def parse_size(text: str) -> int | None:
    """`unlimited`, bytes, or with a binary unit: 500M, 10G, 1T."""
    if text.strip().lower() in ("unlimited", "none", "0"):
        return None
    if match := SIZE.fullmatch(text.strip()):
        return int(match[1]) * SIZE_FACTORS[match[2].lower()]
    raise typer.BadParameter("give bytes, a size such as 500M or 10G, or 'unlimited'", param_hint="QUOTA")


def print_admin_users(cli: Cli, users: list[AdminUser]) -> None:
    table = Table("user", "role", "state", "used", "quota", "files", "last login", box=None)
    for user in users:
        quota = size_text(user.quota_bytes) if user.quota_bytes else "unlimited"
        last_login = utc_text(user.last_login_at) if user.last_login_at else "never"
        state = "disabled" if user.disabled else "active"
        table.add_row(
            user.username, user.role, state, size_text(user.used_bytes), quota, str(user.file_count), last_login
        )
    print_table(cli.out, table)


@admin_app.command("users")
def admin_users(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every user with role, state, usage, quota, file count and last login."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, _):
        users = api.admin_users()
    if as_json:
        for user in users:
            cli.out.print(user.model_dump_json())
        return
    print_admin_users(cli, users)


@admin_app.command("quota")
def admin_quota(
    ctx: typer.Context, username: UserArgument, quota: Annotated[str, typer.Argument(help="e.g. 10G, or unlimited")]
) -> None:
    """Set a user's quota. Below their usage is allowed: their uploads are then refused."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, _):
        print_admin_users(cli, [api.set_quota(username, parse_size(quota))])


def set_disabled(ctx: typer.Context, username: str, *, disabled: bool) -> None:
    cli = cli_of(ctx)
    with cli.signed_in() as (api, _):
        api.set_disabled(username, disabled=disabled)
    cli.err.print(f"{username} is {'disabled' if disabled else 'enabled'}")


@admin_app.command("disable")
def admin_disable(ctx: typer.Context, username: UserArgument) -> None:
    """Lock a user out at once (tokens and share links stop); their files stay."""
    set_disabled(ctx, username, disabled=True)


@admin_app.command("enable")
def admin_enable(ctx: typer.Context, username: UserArgument) -> None:
    """Let a disabled user in again."""
    set_disabled(ctx, username, disabled=False)


@admin_app.command("promote")
def admin_promote(ctx: typer.Context, username: UserArgument) -> None:
    """Make a user an administrator (to create an admin: invite them, then promote)."""
    set_role(ctx, username, "admin")


@admin_app.command("demote")
def admin_demote(ctx: typer.Context, username: UserArgument) -> None:
    """Make an administrator a user again (never the last one)."""
    set_role(ctx, username, "user")


def set_role(ctx: typer.Context, username: str, role: Role) -> None:
    cli = cli_of(ctx)
    with cli.signed_in() as (api, _):
        print_admin_users(cli, [api.set_role(username, role)])


@admin_app.command("invite")
def admin_invite(
    ctx: typer.Context,
    username: Annotated[str | None, typer.Option(help="Only this username may register with it")] = None,
    quota: Annotated[str | None, typer.Option(help="The new account's quota, e.g. 10G")] = None,
    expires: Annotated[str | None, typer.Option(help="7d, 12h or an ISO time [default: INVITE_SECONDS]")] = None,
) -> None:
    """Create a single-use invitation and print its token (shown this once)."""
    cli = cli_of(ctx)
    invite = NewInvite(
        username=username,
        quota_bytes=parse_size(quota) if quota else None,
        expires_at=parse_moment(expires, option="--expires") if expires else None,
    )
    with cli.signed_in() as (api, _):
        created = api.invite(invite)
    cli.err.print(f"invitation {created.id}, valid until {utc_text(created.expires_at)} UTC; its token:")
    cli.out.print(created.token)


@admin_app.command("reset")
def admin_reset(ctx: typer.Context, username: UserArgument) -> None:
    """Issue a single-use password reset token for a user (POST /auth/reset uses it)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, _):
        created = api.issue_reset(username)
    cli.err.print(f"reset token for {username}, valid until {utc_text(created.expires_at)} UTC:")
    cli.out.print(created.token)


@admin_app.command("delete")
def admin_delete(
    ctx: typer.Context,
    username: UserArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Really: the account and all its files go")] = False,
) -> None:
    """Delete a user with all their files, and print what went."""
    cli = cli_of(ctx)
    if not yes:
        raise CliError(ExitCode.USAGE, f"this deletes {username} and all their files: add --yes")
    with cli.signed_in() as (api, _):
        report = api.delete_user(username)
    cli.out.print(
        f"deleted {username}: {counted(report.files, 'file')} ({size_text(report.bytes)}), "
        f"{counted(report.folders, 'folder')}, {counted(report.versions, 'version')}, "
        f"{counted(report.links, 'link')}, {counted(report.grants, 'grant')}, {counted(report.tokens, 'token')}"
    )


@admin_app.command("audit")
def admin_audit(ctx: typer.Context, limit: Annotated[int, typer.Option(help="How many, newest first")] = 50) -> None:
    """Admin actions, newest first."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, _):
        entries = api.audit(limit)
    table = Table("when (UTC)", "who", "what", "target", "detail", box=None)
    for entry in entries:
        table.add_row(utc_text(entry.occurred_at), entry.actor, entry.action, entry.target, entry.detail or "")
    print_table(cli.out, table)


@admin_app.command("stats")
def admin_stats(ctx: typer.Context) -> None:
    """Platform totals: users, files, bytes, today's uploads and downloads."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, _):
        stats = api.platform_stats()
    cli.out.print(
        f"{counted(stats.users, 'user')} ({stats.admins} admin, {stats.disabled_users} disabled), "
        f"{counted(stats.files, 'file')}, {size_text(stats.bytes)}; today: {counted(stats.uploads_today, 'upload')}, "
        f"{counted(stats.downloads_today, 'download')} ({size_text(stats.download_bytes_today)})"
    )


@admin_app.command("backup")
def admin_backup(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="An empty folder, or s3://bucket/prefix")],
    home: Annotated[
        Path | None, typer.Option(envvar="LIFTBIT_HOME", help="The stack's data folder (default: the checkout's)")
    ] = None,
) -> None:
    """Back up the stack running on this machine (the same as `make backup`; `make restore` brings
    it back). An operator's command: it reads the stack's data folder, not the API."""
    # Imported here: the launcher's code (boto3, psycopg, pg_dump) is needed by this command only.
    from scripts.stack.backup import backup
    from scripts.stack.config import DEFAULT_HOME, LauncherError
    from scripts.stack.info import StackInfo

    cli = cli_of(ctx)
    try:
        backup(StackInfo.read(home or DEFAULT_HOME), to, say=cli.out.print)
    except FileNotFoundError as exc:
        raise CliError(ExitCode.NOT_FOUND, str(exc)) from exc
    except LauncherError as exc:
        raise CliError(ExitCode.USAGE, str(exc)) from exc


def main() -> None:
    """The console script: runs the app and turns every failure into one line and its exit status."""
    err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)
    try:
        status = typer.main.get_command(app).main(prog_name="liftbit", standalone_mode=False)
    except CliError as exc:
        err.print(f"error: {exc.message}")
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # a usage error (click's 2 would read as an auth failure here)
        show = getattr(exc, "show", None)
        if show is None:
            err.print(f"error: {exc.message}")
        else:
            show()
        sys.exit(ExitCode.USAGE)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C at a prompt
        err.print("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    sys.exit(status if isinstance(status, int) else ExitCode.OK)
