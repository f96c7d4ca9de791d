"""Failed logins are limited per username and per client address; successes never count."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from files_ms.api.auth import client_address
from files_ms.service.auth import LoginThrottle
from liftbit_common.errors import TooManyRequests


def test_failures_past_the_per_user_limit_are_refused() -> None:
    async def scenario() -> None:
        throttle = LoginThrottle(per_user="3/minute", per_address="100/minute")
        for _ in range(3):
            await throttle.check("alice", "10.0.0.1")
            await throttle.record_failure("alice", "10.0.0.1")
        with pytest.raises(TooManyRequests) as refused:
            await throttle.check("alice", "10.0.0.2")  # another address: the user is locked
        assert int(refused.value.headers["Retry-After"]) > 0
        await throttle.check("bob", "10.0.0.1")  # another user from the same address is not

    asyncio.run(scenario())


def test_failures_past_the_per_address_limit_are_refused_for_every_username() -> None:
    async def scenario() -> None:
        throttle = LoginThrottle(per_user="100/minute", per_address="5/minute")
        for attempt in range(5):
            await throttle.check(f"guess{attempt}", "203.0.113.7")
            await throttle.record_failure(f"guess{attempt}", "203.0.113.7")
        with pytest.raises(TooManyRequests):
            await throttle.check("somebody-else", "203.0.113.7")
        await throttle.check("somebody-else", "203.0.113.8")

    asyncio.run(scenario())


def test_checks_alone_never_lock_anyone_out() -> None:
    async def scenario() -> None:
        throttle = LoginThrottle(per_user="2/minute", per_address="2/minute")
        for _ in range(20):  # successful logins: checked, never recorded
            await throttle.check("alice", "10.0.0.1")

    asyncio.run(scenario())


def test_the_client_address_is_the_one_nginx_saw() -> None:
    def request(headers: dict[str, str]) -> Request:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        return Request({"type": "http", "headers": raw, "client": ("127.0.0.1", 5555)})

    assert client_address(request({"X-Real-IP": "198.51.100.4"})) == "198.51.100.4"
    assert client_address(request({})) == "127.0.0.1"
