"""The internal routes are defined once (liftbit_common/internal_api) and both sides hold to them:
each service serves exactly its routes, with their models, behind the internal token; a handler
or a call that strays from its route is refused before anything is sent.

analytics_ms is left to the full tier: importing it loads PySpark, which alone would cost this
tier a third of its time (measured with -X importtime); tests/e2e/test_platform.py and
test_analytics.py call its routes (the owner stats through files_ms's /users/{username}/stats)."""

from __future__ import annotations

import asyncio
import re
import uuid
from types import ModuleType
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from files_ms.app import create_app as create_files_app
from liftbit_common.contracts import FileCommit, NewAccount, NewUser, UserCreated, WrittenObject
from liftbit_common.errors import ErrorCode, NotFound, ServiceUnavailable
from liftbit_common.internal_api import files, metadata, storage
from liftbit_common.internal_api.health import HEALTH
from liftbit_common.internal_api.route import Route, serve
from liftbit_common.service_app import INTERNAL_TOKEN_HEADER
from liftbit_common.service_client import ServiceClient, ServiceResponse, raise_for_error
from metadata_ms.api.deps import lifespan_services
from metadata_ms.app import create_app as create_metadata_app
from metadata_ms.settings import MetadataSettings
from storage_ms.api.deps import lifespan_objects
from storage_ms.app import create_app as create_storage_app
from storage_ms.settings import StorageSettings
from tests.support.in_process import SETTINGS, Fakes, in_process_api

TOKEN = SETTINGS.internal_token.get_secret_value()
NOWHERE = "postgresql://liftbit:secret@127.0.0.1:9/liftbit"  # never connected: no lifespan runs here
SAMPLE_PATH = {
    "username": "alice",
    "owner": "alice",
    "path": "docs/a.txt",
    "entry_id": "7",
    "node_id": "7",
    "number": 1,
    "grantee": "bob",
    "token_hash": "0" * 64,
    "upload_id": uuid.UUID(int=1),
    "link_id": uuid.UUID(int=2),
    "key": "0" * 32,
    "session_id": uuid.UUID(int=3),
    "writer": uuid.UUID(int=4),
    "token_id": uuid.UUID(int=4),
}


def routes_of(module: ModuleType) -> list[Route[Any, Any]]:
    return [value for value in vars(module).values() if isinstance(value, Route)]


@pytest.fixture(scope="module")
def apps() -> dict[ModuleType, FastAPI]:
    common: dict[str, Any] = {"internal_token": TOKEN, "log_level": "WARNING"}
    return {
        metadata: create_metadata_app(
            MetadataSettings(**common, database_url=NOWHERE, kafka_bootstrap_servers="127.0.0.1:9")
        ),
        storage: create_storage_app(StorageSettings(**common, _env_file=None)),
        files: create_files_app(SETTINGS),
    }


def documented(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    spec = app.openapi()
    return {
        (method.upper(), path): op for path, operations in spec["paths"].items() for method, op in operations.items()
    }


def test_each_internal_service_serves_exactly_its_routes(apps: dict[ModuleType, FastAPI]) -> None:
    for module in (metadata, storage):
        routes = [*routes_of(module), HEALTH]
        operations = documented(apps[module])
        # The spec writes {path:path} as {path}.
        paths = {route: re.sub(r":\w+}", "}", route.path) for route in routes}
        assert set(operations) == {(route.method, paths[route]) for route in routes}, module.__name__
        for route in routes:
            assert str(route.success_status) in operations[route.method, paths[route]]["responses"], route
    assert ("GET", HEALTH.path) in documented(apps[files])


def test_files_ms_serves_its_sweep_to_the_internal_token_only(fakes: Fakes) -> None:
    fakes.storage.objects["0" * 32] = b"orphan"  # no file refers to it
    with in_process_api(fakes) as client:
        assert client.request(files.SWEEP.method, files.SWEEP.path).status_code == 401
        swept = client.request(files.SWEEP.method, files.SWEEP.path, headers={INTERNAL_TOKEN_HEADER: TOKEN})
    assert swept.status_code == 200
    assert files.SweepReport.model_validate_json(swept.content).orphaned_objects == 1
    assert fakes.storage.objects == {}


@pytest.mark.parametrize(
    "route",
    [r for m in (metadata, storage, files) for r in routes_of(m)],
    ids=lambda r: f"{r.method} {r.path}",
)
def test_every_internal_route_refuses_a_call_without_the_internal_token(
    apps: dict[ModuleType, FastAPI], route: Route[Any, Any]
) -> None:
    module = next(m for m in apps if route in routes_of(m))
    client = TestClient(apps[module])  # not entered: the lifespan (databases, brokers) never starts
    path = route.url({name: SAMPLE_PATH[name] for name in route.path_parameters})
    for headers in ({}, {INTERNAL_TOKEN_HEADER: "wrong"}):
        response = client.request(route.method, path, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == ErrorCode.INTERNAL_TOKEN_REQUIRED


def test_internal_routes_validate_their_path_and_query_models(apps: dict[ModuleType, FastAPI]) -> None:
    # No lifespan built the services; validation answers before a handler would need them.
    apps[metadata].dependency_overrides[lifespan_services] = lambda: None
    apps[storage].dependency_overrides[lifespan_objects] = lambda: None
    auth = {INTERNAL_TOKEN_HEADER: TOKEN}
    bad_owner = TestClient(apps[metadata]).get(metadata.LIST_FILES.url({"owner": "No!"}), headers=auth)
    assert (bad_owner.status_code, bad_owner.json()["error"]["code"]) == (422, "invalid_input")
    bad_limit = TestClient(apps[metadata]).get(
        metadata.LIST_FILES.url({"owner": "alice"}), params={"limit": 0}, headers=auth
    )
    assert bad_limit.json()["error"]["message"] == "limit: Input should be greater than or equal to 1"
    bad_key = TestClient(apps[storage]).put(storage.WRITE_OBJECT.url({"key": "../etc"}), content=b"x", headers=auth)
    assert bad_key.status_code in (404, 422)  # '/' in the key cannot even reach the route
    not_hex = TestClient(apps[storage]).put(storage.WRITE_OBJECT.url({"key": "g" * 32}), content=b"x", headers=auth)
    assert (not_hex.status_code, not_hex.json()["error"]["code"]) == (422, "invalid_input")


def test_a_handler_that_strays_from_its_route_is_refused_at_import() -> None:
    router = APIRouter()

    async def wrong_answer(new_user: NewUser) -> NewUser:
        return new_user

    async def wrong_body(new_user: FileCommit) -> UserCreated:
        raise NotImplementedError

    async def missing_parameter() -> None:
        return None

    async def body_as_query(query: storage.WriteOptions) -> WrittenObject:  # not Annotated[..., Query()]
        raise NotImplementedError

    for route, handler in (
        (metadata.REGISTER, wrong_answer),
        (metadata.REGISTER, wrong_body),
        (metadata.REVOKE_TOKEN, missing_parameter),
        (storage.WRITE_OBJECT, body_as_query),
    ):
        with pytest.raises(TypeError):
            serve(router, route)(handler)
    assert router.routes == []


def test_a_call_that_strays_from_its_route_is_refused_before_sending() -> None:
    client = ServiceClient("metadata_ms", "http://127.0.0.1:9", TOKEN)  # nothing listens there
    new_user = NewUser(username="alice", password="long enough password")
    with pytest.raises(TypeError, match="takes FileCommit"):
        asyncio.run(client.call(metadata.COMMIT_FILE, new_user, owner="alice", path="a.txt"))  # type: ignore[misc]
    with pytest.raises(TypeError, match="takes"):
        asyncio.run(client.call(metadata.GRANT, owner="alice", node_id="1"))
    with pytest.raises(TypeError, match="no streamed body"):
        asyncio.run(client.stream(metadata.REGISTER, NewAccount(**new_user.model_dump(), address="::1"), _chunks()))


async def _chunks() -> Any:
    yield b""


def test_path_parameters_are_encoded_whole() -> None:
    url = metadata.READABLE.url({"owner": "alice", "path": "a/b ?%#.txt"})
    assert url == "/users/alice/nodes/a%2Fb%20%3F%25%23.txt"


def test_an_error_answer_comes_back_as_the_same_error() -> None:
    body = b'{"error": {"code": "file_not_found", "message": "file \'a\' of \'b\' not found"}}'
    with pytest.raises(NotFound) as not_found:
        raise_for_error(ServiceResponse(404, body), "metadata_ms")
    assert (not_found.value.code, not_found.value.message) == (ErrorCode.FILE_NOT_FOUND, "file 'a' of 'b' not found")
    with pytest.raises(NotFound) as uncatalogued:
        raise_for_error(ServiceResponse(404, b'{"error": {"code": "made_up", "message": "?"}}'), "metadata_ms")
    assert (uncatalogued.value.code, uncatalogued.value.message) == (ErrorCode.NOT_FOUND, "metadata_ms answered 404")
    with pytest.raises(ServiceUnavailable) as failed:
        raise_for_error(ServiceResponse(500, b"<html>"), "storage_ms")
    assert failed.value.message == "storage_ms failed: storage_ms answered 500"
