"""The name patterns published in OpenAPI are read by JavaScript clients (Swagger UI checks
parameters against them before sending): they must mean in ECMA-262 what the server enforces."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from liftbit_common.names import filename_pattern, path_pattern

ACCEPTED = ["report.txt", "Été 2024.pdf", "données", "e", "photo (2).JPG", "日本語.txt", "..a"]
REFUSED = ["a/b", "..", ".", "invoice\u202egpj.exe", "zero\u200bwidth", "tab\tname", ""]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is part of the machine image")
def test_the_patterns_mean_in_javascript_what_the_server_enforces() -> None:
    script = """
    const [filename, path, names] = JSON.parse(process.argv[1]);
    const f = new RegExp(filename), p = new RegExp(path);
    console.log(JSON.stringify(names.map(n => [f.test(n), p.test(n)])));
    """
    names = ACCEPTED + REFUSED + ["photos/2024/a.jpg", "photos//a.jpg", "a/../b"]
    done = subprocess.run(
        ["node", "-e", script, json.dumps([filename_pattern(), path_pattern(), names])],
        capture_output=True,
        text=True,
        check=True,
    )
    answers = dict(zip(names, json.loads(done.stdout), strict=True))
    for name in ACCEPTED:
        assert answers[name] == [True, True], name
    for name in REFUSED:
        assert answers[name][0] is False, name
    assert answers["photos/2024/a.jpg"] == [False, True]
    assert answers["photos//a.jpg"] == [False, False]
    assert answers["a/../b"] == [False, False]
