"""The README's curl walk-through works as written."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scripts.stack.info import ROOT, StackInfo


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- walkthrough:start -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
    return block.split("```bash", 1)[1].rsplit("```", 1)[0]


def test_readme_walkthrough_runs_as_written(stack: StackInfo, tmp_path: Path) -> None:
    script = walkthrough()
    assert "LB=http://localhost:3000\n" in script
    script = script.replace("LB=http://localhost:3000\n", f"LB={stack.url}\n", 1)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout
    assert output.startswith('{"username":"alice"}')
    assert "]404\n" in output  # bob after the permission was taken back, right after his "shared" list
    assert "hello LiftBit" in output
    assert "Content-Type: text/plain" in output  # the HEAD
    assert '"path":"docs/plan-2026.txt"' in output  # moved, found by search and below the folder
    assert '"type":"folder","path":"docs"' in output  # the trash entry of the folder
    assert '"version":2' in output
    assert '"downloads":1,"has_password":true' in output  # the link, after one download through it
    assert '"code":"link_revoked"' in output
