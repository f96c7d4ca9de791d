#!/usr/bin/env python3
"""Upload files to LiftBit: the first upload script, now a thin alias of `liftbit put --json`.

    scripts/upload.py --user alice report.pdf photos/*.jpg
    LIFTBIT_PASSWORD=... scripts/upload.py --url http://files.example:3000 --user alice big.iso

Standard library only, so any python3 runs it: it hands over to the repo's .venv/bin/liftbit
(running scripts/bootstrap.sh first when the venv does not exist yet). Without --user it uses the
session of `liftbit login`. Each finished file's FileInfo is printed as one line of JSON.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIFTBIT = ROOT / ".venv" / "bin" / "liftbit"


def main() -> None:
    parser = argparse.ArgumentParser(description="Upload FILES to LiftBit (resumable); same as `liftbit put --json`.")
    parser.add_argument("files", nargs="+", help="files to upload, each under its own name")
    parser.add_argument("--user", "-u", help="log in as this user for this upload (password from LIFTBIT_PASSWORD)")
    parser.add_argument("--url", help="LiftBit's address (default: LIFTBIT_URL, else the running stack's)")
    args = parser.parse_args()
    if not LIFTBIT.exists():
        subprocess.run([str(ROOT / "scripts" / "bootstrap.sh")], check=True, stdout=sys.stderr)
    connection = [*(["--url", args.url] if args.url else []), *(["--user", args.user] if args.user else [])]
    os.execv(LIFTBIT, [str(LIFTBIT), *connection, "put", "--json", "--", *args.files])


if __name__ == "__main__":
    main()
