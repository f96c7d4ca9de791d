"""The one error shape for every failure, codes from the catalogue, and the catalogue in the spec."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from liftbit_common.errors import STATUS_CODES, ErrorCode, ServiceUnavailable
from tests.support.http import error_of, put
from tests.support.in_process import MAX_FILE_SIZE_BYTES, QUOTA_BYTES, Fakes
from tests.support.users import User


def test_routing_errors_have_the_shape_and_a_generic_code(api: TestClient, alice: User) -> None:
    unknown = api.get("/no/such/route")
    assert (unknown.status_code, error_of(unknown)[0]) == (404, "not_found")
    wrong_method = api.patch(f"/users/{alice.name}", headers=alice.auth)
    assert (wrong_method.status_code, error_of(wrong_method)[0]) == (405, "method_not_allowed")


def test_taken_usernames_are_409(api: TestClient, alice: User) -> None:
    again = api.post("/users", json={"username": alice.name, "password": "another password"})
    assert (again.status_code, error_of(again)) == (409, ("username_taken", f"username {alice.name!r} is taken"))


def test_size_limits_are_413_before_and_while_the_body_arrives(api: TestClient, fakes: Fakes, alice: User) -> None:
    too_big = b"x" * (MAX_FILE_SIZE_BYTES + 1)
    declared = put(api, alice, "big.bin", too_big)
    assert (declared.status_code, error_of(declared)[0]) == (413, "file_too_large")

    def chunked() -> Any:
        yield too_big

    streamed = api.put(f"/users/{alice.name}/files/big.bin", content=chunked(), headers=alice.auth)
    assert (streamed.status_code, error_of(streamed)[0]) == (413, "file_too_large")
    assert fakes.storage.objects == {}  # the refused bytes were not kept


def test_the_quota_is_413_and_leaves_nothing_behind(api: TestClient, fakes: Fakes, alice: User) -> None:
    chunk = b"q" * (MAX_FILE_SIZE_BYTES - 1)
    stored = 0
    while stored + len(chunk) <= QUOTA_BYTES:
        assert put(api, alice, f"q{stored}.bin", chunk).status_code == 201
        stored += len(chunk)
    over = put(api, alice, "over.bin", chunk)
    assert (over.status_code, error_of(over)[0]) == (413, "quota_exceeded")
    assert len(fakes.storage.objects) == stored // len(chunk)
    assert api.get(f"/users/{alice.name}", headers=alice.auth).json()["used_bytes"] == stored


def test_download_conditions_are_304_412_and_416(api: TestClient, fakes: Fakes, alice: User) -> None:
    etag = f'"{put(api, alice, "c.txt", b"content").json()["sha256"]}"'
    url = f"/users/{alice.name}/files/c.txt"
    assert api.get(url, headers=alice.auth | {"If-None-Match": etag}).status_code == 304
    mismatch = api.get(url, headers=alice.auth | {"If-Match": '"other"'})
    assert (mismatch.status_code, error_of(mismatch)[0]) == (412, "precondition_failed")
    beyond = api.get(url, headers=alice.auth | {"Range": "bytes=100-"})
    assert (beyond.status_code, error_of(beyond)[0]) == (416, "range_not_satisfiable")
    assert beyond.headers["content-range"] == "bytes */7"
    assert fakes.metadata.downloads == []  # none of these served bytes, so none is a download


def test_a_dependency_that_does_not_answer_is_503(
    api: TestClient, fakes: Fakes, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def storage_down(*_: object, **__: object) -> None:
        raise ServiceUnavailable("storage_ms")

    monkeypatch.setattr(fakes.storage, "write", storage_down)
    upload = put(api, alice, "a.txt", b"a")
    assert upload.status_code == 503
    assert error_of(upload) == ("dependency_unavailable", "storage_ms is unavailable, try again shortly")
    assert fakes.metadata.nodes == {}

    monkeypatch.setattr(fakes.metadata, "resolve_token", storage_down)
    signed_in = api.get(f"/users/{alice.name}/files", headers=alice.auth)
    assert (signed_in.status_code, error_of(signed_in)[0]) == (503, "dependency_unavailable")


def test_health_is_503_and_names_the_part_that_is_down(api: TestClient, fakes: Fakes) -> None:
    healthy = api.get("/health")
    assert healthy.status_code == 200
    assert healthy.json()["status"] == "ok"
    assert {"metadata_ms", "storage_ms", "analytics_ms", "s3"} <= set(healthy.json()["checks"])
    fakes.storage.health["s3"] = "no answer within 2 s"
    sick = api.get("/health")
    assert sick.status_code == 503
    assert sick.json() == {"status": "unavailable", "checks": healthy.json()["checks"] | {"s3": "no answer within 2 s"}}


def test_health_is_200_degraded_while_only_analytics_is_starting(api: TestClient, fakes: Fakes) -> None:
    """The file API works without analytics (events wait in the outbox and the topic), so Spark
    coming up is "degraded", 200; a real failure, of analytics too, stays 503 "unavailable"."""
    fakes.analytics.health |= {"analytics_ms": "starting", "streaming_query": "starting"}
    starting = api.get("/health")
    assert (starting.status_code, starting.json()["status"]) == (200, "degraded")
    assert starting.json()["checks"]["analytics_ms"] == "starting"

    fakes.metadata.health["broker"] = "no answer within 2 s"
    also_sick = api.get("/health")
    assert (also_sick.status_code, also_sick.json()["status"]) == (503, "unavailable")

    fakes.metadata.health["broker"] = "ok"
    fakes.analytics.health |= {"analytics_ms": "unavailable", "streaming_query": "failed: the query stopped"}
    failed = api.get("/health")
    assert (failed.status_code, failed.json()["status"]) == (503, "unavailable")


def test_the_catalogue_covers_every_code_once_per_status() -> None:
    catalogued = [code for _, codes in STATUS_CODES.values() for code in codes]
    assert set(catalogued) == set(ErrorCode)
    assert all(len(codes) == len(set(codes)) for _, codes in STATUS_CODES.values())
    # The generic code of each status is what an error class raises unless told otherwise.
    assert STATUS_CODES[404][1][0] == ErrorCode.NOT_FOUND
    assert STATUS_CODES[503][1][0] == ErrorCode.DEPENDENCY_UNAVAILABLE


def test_the_spec_documents_the_error_shape_and_codes_of_every_error_status(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert spec["components"]["schemas"]["ErrorCode"]["enum"] == [code.value for code in ErrorCode]
    assert spec["components"]["schemas"]["ErrorDetail"]["properties"]["code"] == {
        "$ref": "#/components/schemas/ErrorCode"
    }
    documented = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.isdigit() or int(status) < 400 or path == "/health":  # 503: the health report
                    continue
                where = f"{method.upper()} {path} {status}"
                if set(response["content"]) == {"text/html"}:  # a page for people (/s/{token}): errors are pages
                    continue
                schema = response["content"]["application/json"]["schema"]
                # The token endpoint answers in RFC 6749's shape, LiftBit's error object inside.
                shape = "TokenErrorResponse" if path == "/auth/token" else "ErrorResponse"
                assert schema == {"$ref": f"#/components/schemas/{shape}"}, where
                for code in STATUS_CODES[int(status)][1]:
                    assert f"`{code}`" in response["description"], where
                documented += 1
    assert documented > 60
