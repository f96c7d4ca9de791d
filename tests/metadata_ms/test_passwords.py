"""The password vault: bounded, low-priority argon2."""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from metadata_ms.service.passwords import PasswordVault


def test_hashes_run_in_threads_of_lower_priority_and_verify() -> None:
    async def scenario() -> tuple[bool, bool, list[int]]:
        vault = PasswordVault(concurrency=1, queue=0, nice=7)
        try:
            stored = await vault.hash("correct horse")
            right, wrong = await vault.verify(stored, "correct horse"), await vault.verify(stored, "wrong")
            threads = [t for t in threading.enumerate() if t.name.startswith("argon2")]
            return right, wrong, [os.getpriority(os.PRIO_PROCESS, t.native_id or 0) for t in threads]
        finally:
            vault.close()

    # A thread of its own: the full tier's browser fixtures may leave an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        right, wrong, priorities = pool.submit(asyncio.run, scenario()).result()
    assert (right, wrong) == (True, False)
    assert priorities == [max(7, os.getpriority(os.PRIO_PROCESS, 0))]
