"""Run a coroutine to completion from a test, whatever the main thread holds: the browser tests'
Playwright (sync API) leaves an event loop running in it for the rest of the session, and
asyncio.run() refuses to start under a running loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
