"""schemathesis against /openapi.json through nginx, authenticated, with every check it has but
one (see EXCLUDED_CHECKS): no 5xx, every response as documented, invalid input refused.

`make test` runs 400 cases, the same ones every run (derandomized: the gate of a change is
reproducible, and a case it fails on fails again on the developer's machine); `make fuzz` runs
FUZZ_EXAMPLES (5,000 by default) random ones, to explore."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.openapi import from_url

from scripts.stack.info import StackInfo
from tests.support.users import User, register, unique_name

# tus PATCH bodies are raw bytes, like application/octet-stream.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

# Every check but positive_data_acceptance: valid-looking input is refused for what OpenAPI
# cannot say (Upload-Metadata must carry a base64 filename that obeys the filename rules; quota,
# preconditions, ranges, throttles), each with a documented 4xx.
EXCLUDED_CHECKS = [positive_data_acceptance]

# Operations that would end the fuzzing user's own session.
EXCLUDED = {("POST", "/auth/logout"), ("DELETE", "/users/{username}")}


@pytest.fixture(scope="module")
def fuzzer(stack: StackInfo) -> Iterator[User]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        user = register(client, unique_name("fuzz"))
        client.put(f"/users/{user.name}/files/seed.txt", content=b"seed", headers=user.auth)
        yield user


def test_api_answers_as_documented(stack: StackInfo, fuzzer: User) -> None:
    schema = from_url(f"{stack.url}/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok) and (result.ok().method.upper(), result.ok().path) not in EXCLUDED
    ]
    assert len(operations) >= 15
    strategy = st.one_of([operation.as_strategy() for operation in operations])
    failures: list[str] = []

    @given(case=strategy)
    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "400")),
        derandomize="FUZZ_EXAMPLES" not in os.environ,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def exercise(case: Case[Any]) -> None:
        headers = dict(case.headers or {})
        headers.setdefault("Authorization", f"Bearer {fuzzer.token}")
        # Aim a share of the cases at the fuzzer's own namespace, past the 403 of a foreign one.
        for name in ("username", "owner"):
            if case.path_parameters and name in case.path_parameters and len(case.path_parameters[name]) % 2:
                case.path_parameters[name] = fuzzer.name
        started = time.monotonic()
        try:
            case.call_and_validate(
                base_url=stack.url,
                headers=headers,
                excluded_checks=EXCLUDED_CHECKS,
                timeout=30,
            )
        except AssertionError as failure:  # collect, so one run reports every kind of failure
            failures.append(f"{case.method} {case.formatted_path}: {str(failure)[:500]}")
        finally:
            if time.monotonic() - started > 2:
                print("SLOW", case.method, case.formatted_path, dict(case.headers or {}), time.monotonic() - started)

    exercise()
    assert not failures, "\n\n".join(sorted(set(failures))[:20])
