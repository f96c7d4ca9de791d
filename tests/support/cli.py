"""The `liftbit` console script as a person runs it: a Shell with its own HOME and config dir,
pointed at the test stack (tests/e2e/test_cli*.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.stack.info import ROOT, StackInfo
from tests.support.users import User

LIFTBIT = Path(sys.executable).with_name("liftbit")


@dataclass
class Shell:
    """One person's terminal: an own HOME and config dir, the test stack's URL unless told otherwise."""

    home: Path
    url: str

    def env(self, **extra: str) -> dict[str, str]:
        base = {"PATH": os.environ["PATH"], "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / "config")}
        return base | {"LIFTBIT_URL": self.url} | extra

    def run(self, *args: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LIFTBIT), *args],
            input=stdin,
            env=self.env(**extra),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def upload_script(self, *args: str, password: str) -> subprocess.CompletedProcess[str]:
        """scripts/upload.py as the README shows it: executable, the system python3, no venv on PATH."""
        env = self.env(PATH="/usr/bin:/bin", LIFTBIT_PASSWORD=password)
        script = str(ROOT / "scripts" / "upload.py")
        return subprocess.run([script, *args], env=env, cwd=self.home, capture_output=True, text=True, check=False)

    def login(self, user: User) -> None:
        self.ok("login", user.name, stdin=user.password + "\n")

    @property
    def resume_state(self) -> Path:
        return self.home / "config" / "liftbit" / "uploads"


def shell_of(stack: StackInfo, tmp_path: Path, name: str) -> Shell:
    home = tmp_path / name
    home.mkdir()
    return Shell(home=home, url=stack.url)


def fails(done: subprocess.CompletedProcess[str], exit_code: int, *words: str) -> None:
    """A failure is one human line on stderr with the documented exit status: no traceback, no JSON."""
    assert done.returncode == exit_code, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    assert "{" not in lines[-1], done.stderr
    for word in words:
        assert word in lines[-1], done.stderr


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]
