"""The `liftbit` command-line client, run as its installed console script against the test stack."""

from __future__ import annotations

import hashlib
import json
import signal
import stat
import subprocess
import time
from pathlib import Path

import httpx
import psycopg

from scripts.stack.info import StackInfo
from tests.support.cli import LIFTBIT, Shell, fails, json_lines, shell_of
from tests.support.http import content
from tests.support.tus import TUS
from tests.support.users import User

MiB = 1024 * 1024


def test_login_put_ls_get_share_rm_logout(
    stack: StackInfo, api: httpx.Client, alice: User, bob: User, tmp_path: Path
) -> None:
    me, them = shell_of(stack, tmp_path, "alice"), shell_of(stack, tmp_path, "bob")
    fails(me.run("ls"), 2, "not logged in", "liftbit login")
    files = {"notes.txt": b"first file\n", "two words.bin": content(6 * MiB + 5, seed=1), "empty": b""}
    for name, body in files.items():
        (me.home / name).write_bytes(body)
    wrong = me.upload_script("--user", alice.name, "notes.txt", password="not it")  # no session yet: logs in
    fails(wrong, 2, "login failed: incorrect username or password")

    me.login(alice)
    sessions = me.home / "config" / "liftbit" / "sessions.json"
    assert stat.S_IMODE(sessions.stat().st_mode) == 0o600
    assert stat.S_IMODE(sessions.parent.stat().st_mode) == 0o700
    put = me.upload_script("--user", alice.name, *files, password=alice.password)  # = liftbit put --json
    assert put.returncode == 0, put.stderr
    assert "two words.bin" in put.stderr  # the progress bar
    stored = {info["filename"]: info for info in json_lines(put.stdout)}
    assert {name: (info["size"], info["sha256"]) for name, info in stored.items()} == {
        name: (len(body), hashlib.sha256(body).hexdigest()) for name, body in files.items()
    }
    assert [info["filename"] for info in json_lines(me.ok("ls", "--json").stdout)] == sorted(files)

    downloads = me.home / "downloads"
    downloads.mkdir()
    me.ok("get", "-o", str(downloads), *files)
    assert {p.name: p.read_bytes() for p in downloads.iterdir()} == files  # no .part left behind
    usage = api.get(f"/users/{alice.name}", headers=alice.auth).json()
    assert usage["used_bytes"] == sum(map(len, files.values()))
    assert f"{alice.name} on {stack.url}: 3 files, 6.0 MiB used of 4.0 GiB" in me.ok("whoami").stdout

    # sharing: bob sees and downloads the file while the grant lasts
    them.login(bob)
    me.ok("share", "notes.txt", bob.name)
    assert me.ok("grants", "notes.txt").stdout.split() == [bob.name]
    assert [(i["owner"], i["filename"]) for i in json_lines(them.ok("shared", "--json").stdout)] == [
        (alice.name, "notes.txt")
    ]
    them.ok("get", "--owner", alice.name, "notes.txt")
    assert (them.home / "notes.txt").read_bytes() == files["notes.txt"]
    me.ok("unshare", "notes.txt", bob.name)
    fails(them.run("get", "--owner", alice.name, "notes.txt", "-o", "again.txt"), 3, "notes.txt")
    assert not (them.home / "again.txt").exists()
    assert not (them.home / "again.txt.part").exists()

    me.ok("rm", "empty", "notes.txt")
    fails(me.run("get", "notes.txt"), 3, "notes.txt")

    me.ok("logout")
    assert not json.loads(sessions.read_text())
    fails(me.run("whoami"), 2, "not logged in")
    assert api.get(f"/users/{alice.name}", headers=alice.auth).status_code == 200  # only the CLI's token was revoked


def upload_offset(api: httpx.Client, user: User, shell: Shell) -> int:
    (state,) = shell.resume_state.iterdir()
    head = api.head(state.read_text(), headers=user.auth | TUS)
    assert head.status_code == 200, head.status_code
    return int(head.headers["upload-offset"])


def test_interrupted_put_and_get_resume(stack: StackInfo, api: httpx.Client, alice: User, tmp_path: Path) -> None:
    me = shell_of(stack, tmp_path, "alice")
    me.login(alice)
    big = me.home / "big.bin"
    body = content(48 * MiB, seed=2)
    big.write_bytes(body)

    # Ctrl-C in the middle of the upload (held to 8 MiB/s so that there is a middle)
    running = subprocess.Popen(
        [str(LIFTBIT), "put", "--limit-rate", "8M", str(big)],
        env=me.env(),
        cwd=me.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (me.resume_state.is_dir() and any(me.resume_state.iterdir())):
        assert running.poll() is None and time.monotonic() < deadline, running.communicate()
        time.sleep(0.1)
    time.sleep(1.5)
    running.send_signal(signal.SIGINT)
    _, stderr = running.communicate(timeout=60)
    assert running.returncode == 130, stderr
    assert "run the same command again to resume" in stderr.strip().splitlines()[-1]
    held = upload_offset(api, alice, me)
    assert 0 < held < len(body)

    resumed = me.ok("put", str(big))
    assert f"big.bin: resuming at {held:,} of {len(body):,} bytes" in resumed.stderr
    assert not any(me.resume_state.iterdir())
    assert api.get(f"/users/{alice.name}/files/big.bin", headers=alice.auth).content == body

    # a download that stopped after 10 MiB continues from the .part file
    partial = me.home / "copy.bin.part"
    partial.write_bytes(body[: 10 * MiB])
    fetched = me.ok("get", "big.bin", "-o", "copy.bin")
    assert f"big.bin: resuming at {10 * MiB:,} of {len(body):,} bytes" in fetched.stderr
    assert (me.home / "copy.bin").read_bytes() == body
    assert not partial.exists()

    # a damaged .part is caught by the SHA-256 check and removed; nothing appears under the name
    (me.home / "damaged.bin.part").write_bytes(b"x" * MiB)
    fails(me.run("get", "big.bin", "-o", "damaged.bin"), 7, "SHA-256")
    assert not (me.home / "damaged.bin").exists()
    assert not (me.home / "damaged.bin.part").exists()


def test_errors_are_one_line_with_their_exit_status(stack: StackInfo, alice: User, tmp_path: Path) -> None:
    me = shell_of(stack, tmp_path, "alice")
    me.login(alice)
    # over the size limit: refused before a byte is sent (a sparse file, MAX_FILE_SIZE_BYTES + 1)
    huge = me.home / "huge.iso"
    with huge.open("wb") as stream:
        stream.truncate(3 * 1024**3 + 1)
    fails(me.run("put", str(huge)), 4, "huge.iso")
    # over the quota
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as db:
        db.execute("UPDATE users SET quota_bytes = %s WHERE username = %s", (MiB, alice.name))
    (me.home / "two.bin").write_bytes(content(2 * MiB))
    fails(me.run("put", str(me.home / "two.bin")), 4, "quota")

    fails(me.run("put", "no-such-file"), 1, "not a file")
    assert me.run("frobnicate").returncode == 1
    unreachable = me.run("login", alice.name, stdin=alice.password + "\n", LIFTBIT_URL="http://127.0.0.1:9")
    fails(unreachable, 5, "cannot reach LiftBit at http://127.0.0.1:9")

    # without --url or LIFTBIT_URL, the address comes from the running stack's stack.env
    elsewhere = {k: v for k, v in me.env(LIFTBIT_HOME=str(stack.home)).items() if k != "LIFTBIT_URL"}
    located = subprocess.run([str(LIFTBIT), "whoami"], env=elsewhere, capture_output=True, text=True, check=False)
    assert located.returncode == 0, located.stderr
    assert f"{alice.name} on {stack.url}" in located.stdout


def test_folder_tree_commands(stack: StackInfo, api: httpx.Client, alice: User, bob: User, tmp_path: Path) -> None:
    """put -r, ls, find, mkdir, mv, rm, trash, restore, versions on the second-stage routes."""
    me, them = shell_of(stack, tmp_path, "alice"), shell_of(stack, tmp_path, "bob")
    me.login(alice)
    tree = me.home / "photos"
    local = {f"2024/p{i:02}.jpg": content(1000 + i, seed=i) for i in range(12)} | {"Notes.TXT": b"notes\n"}
    for relative, body in local.items():
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        (tree / relative).write_bytes(body)
    (tree / "empty").mkdir()

    sent = me.ok("put", "-r", "--json", str(tree))  # more files than progress rows: a total row counts them
    everything = me.ok("ls", "-r", "--json").stdout
    assert sorted(json_lines(sent.stdout), key=str) == sorted(json_lines(everything), key=str)
    stored = {str(i["path"]): i["sha256"] for i in json_lines(everything)}
    assert stored == {f"photos/{path}": hashlib.sha256(body).hexdigest() for path, body in local.items()}
    top = json_lines(me.ok("ls", "--json", "photos").stdout)
    assert [(i["type"], i.get("name") or i["filename"]) for i in top] == [
        ("folder", "2024"),
        ("file", "Notes.TXT"),
        ("folder", "empty"),
    ]
    assert top[0]["item_count"] == 12

    # running it again sends only what changed
    (tree / "Notes.TXT").write_bytes(b"notes, second version\n")
    again = me.ok("put", "-r", str(tree))
    assert again.stdout.count("unchanged ") == 12
    assert "uploaded photos/Notes.TXT" in again.stdout

    assert [i["path"] for i in json_lines(me.ok("find", "--json", "NOTES").stdout)] == ["photos/Notes.TXT"]
    assert me.ok("find", "--json", "p0", "--in", "photos/2024").stdout.count("\n") == 10

    # versions: the first content is kept, downloadable and restorable
    listed = json_lines(me.ok("versions", "--json", "photos/Notes.TXT").stdout)
    assert [(v["version"], v["current"]) for v in listed] == [(2, True), (1, False)]
    me.ok("get", "photos/Notes.TXT", "--version", "1", "-o", "first.txt")
    assert (me.home / "first.txt").read_bytes() == b"notes\n"
    me.ok("versions", "photos/Notes.TXT", "--restore", "1")
    assert api.get(f"/users/{alice.name}/files/photos/Notes.TXT", headers=alice.auth).content == b"notes\n"

    # mkdir, mv (into a folder, rename, onto a taken path, a folder into itself)
    me.ok("mkdir", "archive/old")
    me.ok("mv", "photos/2024", "archive/")
    me.ok("mv", "photos/Notes.TXT", "photos/notes.txt")
    assert {str(i["path"]) for i in json_lines(me.ok("ls", "-r", "--json", "archive").stdout)} == {
        f"archive/{path}" for path in local if path.startswith("2024/")
    }
    fails(me.run("mv", "photos/notes.txt", "archive/old"), 6, "photos/notes.txt")
    fails(me.run("mv", "archive", "archive/old/inside"), 1)

    # a shared folder: bob finds what is inside it
    them.login(bob)
    me.ok("share", "archive", bob.name)
    shared = json_lines(them.ok("find", "--shared", "--json", "p11").stdout)
    assert [(i["owner"], i["path"]) for i in shared] == [(alice.name, "archive/2024/p11.jpg")]

    # rm to the trash, restore by path, purge one, empty it
    me.ok("rm", "photos/notes.txt")
    me.ok("rm", "-r", "archive/2024")
    trashed = json_lines(me.ok("trash", "--json").stdout)
    assert [(e["type"], e["path"]) for e in trashed] == [("folder", "archive/2024"), ("file", "photos/notes.txt")]
    assert "restored archive/2024" in me.ok("restore", "archive/2024").stdout
    me.ok("trash", "--purge", "photos/notes.txt")
    me.ok("rm", "-r", "archive")
    me.ok("trash", "--empty")
    assert me.ok("trash", "--json").stdout == ""
    assert api.get(f"/users/{alice.name}", headers=alice.auth).json()["used_bytes"] == 0
