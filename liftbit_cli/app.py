"""The `liftbit` command: log in once, then put, get, list, share and remove files from a shell."""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.filesize import pick_unit_and_suffix
from rich.table import Table

from liftbit_cli.api import Api
from liftbit_cli.config import ResumeStore, Session, SessionStore, config_dir, server_url
from liftbit_cli.errors import CliError, ExitCode
from liftbit_cli.transfer import Interrupted, Throttle, Transfers, Upload, download, progress_display, upload
from liftbit_common.contracts import FileInfo

EPILOG = (
    "Exit status: 0 ok, 1 usage or bad input, 2 not logged in / wrong password / not allowed, 3 not found, "
    "4 over the quota or the size limit, 5 server unreachable or unavailable, 6 conflict, "
    "7 SHA-256 mismatch, 130 interrupted (Ctrl-C)."
)
app = typer.Typer(
    name="liftbit",
    help="LiftBit from the command line: log in once, then put, get, list, share and remove files.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
PASSWORD_ENV = "LIFTBIT_PASSWORD"
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
        """An Api with the saved session's token; with --user and no session of that user, a token
        for this command only (password from LIFTBIT_PASSWORD or asked), revoked at the end."""
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


def size_text(size: int) -> str:
    units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
    unit, suffix = pick_unit_and_suffix(size, units, 1024)
    return f"{size:,} bytes" if unit == 1 else f"{size / unit:.1f} {suffix}"


def file_table(files: list[FileInfo], *, with_owner: bool = False) -> Table:
    table = Table(box=None, pad_edge=False)
    if with_owner:
        table.add_column("owner")
    table.add_column("name", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("modified (UTC)")
    table.add_column("type")
    for file in files:
        row = [file.filename, size_text(file.size), file.updated_at.strftime("%Y-%m-%d %H:%M"), file.content_type]
        table.add_row(*([file.owner] if with_owner else []), *row)
    return table


def print_files(cli: Cli, files: list[FileInfo], as_json: bool, *, with_owner: bool = False) -> None:
    if as_json:
        for file in files:
            print(file.model_dump_json(), flush=True)
    elif files:
        cli.out.print(file_table(files, with_owner=with_owner))


JsonOption = Annotated[bool, typer.Option("--json", help="One FileInfo JSON object per line")]


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
    cli.out.print(f"{user.username} on {cli.url}: {user.file_count} files, {size_text(user.used_bytes)} used {quota}")


@app.command("ls")
def list_files(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List your files."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        print_files(cli, list(api.files(username)), as_json)


def parse_rate(text: str | None) -> int | None:
    """`500K`, `20M`, `1G` or a number of bytes, per second."""
    if text is None:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise typer.BadParameter("give bytes per second, e.g. 500K, 20M or 1G", param_hint="--limit-rate")
    return int(float(match[1]) * 1024 ** " KMG".index(match[2].upper() or " "))


def run_transfers(
    cli: Cli,
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
    with cli.signed_in() as (api, username), progress_display(cli.err) as progress:
        transfers = Transfers(api, username, progress, cancel, Throttle(rate))
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


@app.command()
def put(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Files to upload, each under its own name")],
    jobs: JobsOption = 4,
    limit_rate: RateOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload files (resumable: after Ctrl-C or a cut connection, the same command continues)."""
    cli, rate = cli_of(ctx), parse_rate(limit_rate)
    for path in files:
        if not path.is_file():
            raise CliError(ExitCode.USAGE, f"{path}: not a file")
    uploads = [Upload(local=path, remote=path.name) for path in files]

    def uploaded(job: Upload, info: FileInfo) -> None:
        if as_json:
            print(info.model_dump_json(), flush=True)
        else:
            cli.out.print(f"uploaded {info.filename} ({size_text(info.size)}, sha256 {info.sha256[:16]}…)")

    run_transfers(
        cli,
        uploads,
        lambda transfers, job: upload(transfers, cli.resume, job),
        uploaded,
        jobs=jobs,
        rate=rate,
    )


@app.command()
def get(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(help="Files to download")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Whose files (one who shared them with you) [default: yours]")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="A folder, or with one file the file's new local name")
    ] = Path(),
    jobs: JobsOption = 4,
    limit_rate: RateOption = None,
) -> None:
    """Download files (resumable from NAME.part; the SHA-256 is checked before NAME appears)."""
    cli, rate = cli_of(ctx), parse_rate(limit_rate)
    if len(names) > 1 and not output.is_dir():
        raise CliError(ExitCode.USAGE, f"{output}: not a folder (needed for several files)")

    def destination(name: str) -> Path:
        return output / Path(name).name if output.is_dir() else output

    def fetched(name: str, info: FileInfo) -> None:
        cli.out.print(f"downloaded {name} to {destination(name)} ({size_text(info.size)}, SHA-256 verified)")

    def fetch(transfers: Transfers, name: str) -> FileInfo:
        return download(transfers, owner or transfers.username, name, destination(name))

    run_transfers(cli, names, fetch, fetched, jobs=jobs, rate=rate)


@app.command("rm")
def remove(ctx: typer.Context, names: Annotated[list[str], typer.Argument(help="Files to delete")]) -> None:
    """Delete files."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        for name in names:
            api.delete(username, name)
            cli.out.print(f"removed {name}")


Grantees = Annotated[list[str], typer.Argument(help="Usernames")]
OwnFile = Annotated[str, typer.Argument(help="Your file")]


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
    """Let other users download one of your files."""
    change_grants(ctx, name, users, allow=True)


@app.command()
def unshare(ctx: typer.Context, name: OwnFile, users: Grantees) -> None:
    """Take back other users' right to download one of your files."""
    change_grants(ctx, name, users, allow=False)


@app.command()
def grants(ctx: typer.Context, name: OwnFile) -> None:
    """Who may download one of your files, one username per line."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        for grantee in api.grantees(username, name):
            print(grantee, flush=True)


@app.command()
def shared(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Files other users shared with you (download one with `liftbit get --owner OWNER NAME`)."""
    cli = cli_of(ctx)
    with cli.signed_in() as (api, username):
        print_files(cli, api.shared_with(username), as_json, with_owner=True)


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
