"""Debian's Chromium as LiftBit's tools run it: scripts/screenshots.py over the DevTools protocol,
the browser tests through Playwright (tests/support/browser.py). Never a downloaded browser."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"  # Debian's package; scripts/bootstrap.sh --test and scripts/docs.sh install it
# What it needs on the development machines and CI: root (no sandbox), no GPU, no network. Without
# the background-networking flags it keeps dialling Google's services, and the refused connections
# slow every page down.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
