"""The password vault: bounded, low-priority argon2."""

from __future__ import annotations

import os
import threading

from metadata_ms.service.passwords import PasswordVault
from tests.support.asyncio_thread import run_coroutine


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

    right, wrong, priorities = run_coroutine(scenario())
    assert (right, wrong) == (True, False)
    assert priorities == [max(7, os.getpriority(os.PRIO_PROCESS, 0))]
