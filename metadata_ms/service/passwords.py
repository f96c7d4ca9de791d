"""Password hashing with argon2id; verification takes the same time whether or not the user exists.

argon2 is deliberately expensive (~50 ms of one core and 64 MiB each here), so it is an
unauthenticated way to spend CPU: at most ``concurrency`` hashes run at once (no more than the
cores), at most ``queue`` wait, and a request beyond that is answered 503 with Retry-After at once
instead of queueing behind the others and starving every other request of CPU.

The hashing threads also run at a lower CPU priority (``nice``; on Linux a thread's own): when
transfers and hashes compete for the cores, the scheduler serves the transfers first, and a hash
waits a little longer. Idle cores still hash at full speed."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from liftbit_common.errors import ServiceUnavailable

T = TypeVar("T")


def _lower_priority(nice: int) -> Callable[[], None]:
    def lower() -> None:
        thread = threading.get_native_id()
        # Never above the process's own nice: raising priority needs privileges.
        os.setpriority(os.PRIO_PROCESS, thread, max(nice, os.getpriority(os.PRIO_PROCESS, thread)))

    return lower


class PasswordVault:
    def __init__(self, *, concurrency: int, queue: int, nice: int = 0) -> None:
        self._hasher = PasswordHasher()
        self._threads = ThreadPoolExecutor(concurrency, "argon2", initializer=_lower_priority(nice))
        # Verified against when the username is unknown, so both cases cost one argon2 verify.
        self._decoy_hash = self._hasher.hash("decoy password that matches nothing")
        self._slots = asyncio.Semaphore(concurrency)
        self._admitted = 0
        self._capacity = concurrency + queue

    async def _bounded(self, work: Callable[..., T], *args: str | None) -> T:
        if self._admitted >= self._capacity:
            raise ServiceUnavailable(
                "password hashing", "too many logins and registrations at once; try again in a second"
            )
        self._admitted += 1
        try:
            async with self._slots:
                return await asyncio.get_running_loop().run_in_executor(self._threads, work, *args)
        finally:
            self._admitted -= 1

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def hash(self, password: str) -> str:
        return await self._bounded(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await self._bounded(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._decoy_hash, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False
