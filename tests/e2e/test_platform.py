"""The platform around the API: health, docs, internal services, nginx, logs, metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from scripts.stack.info import StackInfo
from tests.support.users import User

INTERNAL = ("METADATA_URL", "STORAGE_URL", "ANALYTICS_URL")


def test_health_is_green_and_names_every_part(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"metadata_ms", "postgres", "broker", "storage_ms", "s3", "analytics_ms"}
    assert set(body["checks"].values()) == {"ok"}


def test_docs_and_spec_through_nginx(api: httpx.Client) -> None:
    front = api.get("/")  # the web app, which links to the docs
    assert front.status_code == 200 and '<div id="app">' in front.text
    docs = api.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert "cdn." not in docs.text  # served from this machine: works without internet
    assert api.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/users", "post"),
        ("/auth/token", "post"),
        ("/users/{username}", "delete"),
        ("/users/{username}/files/{filename}", "put"),
        ("/users/{username}/files", "post"),
        ("/users/{username}/files", "get"),
        ("/users/{username}/files/{filename}", "get"),
        ("/users/{username}/files/{filename}", "delete"),
        ("/users/{owner}/files/{filename}/permissions/{grantee}", "put"),
        ("/users/{owner}/files/{filename}/permissions/{grantee}", "delete"),
        ("/users/{owner}/files/{filename}/permissions", "get"),
        ("/users/{username}/shared", "get"),
        ("/uploads/", "post"),
        ("/analytics/downloads", "get"),
        ("/health", "get"),
    ]:
        assert method in paths.get(path, {}), (method, path)
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == (
        "/auth/token"
    )
    assert not any(p.startswith("/internal") for p in paths)


def listening_addresses() -> dict[int, set[str]]:
    """Port → addresses listened on, from /proc/net/tcp (state 0A = LISTEN)."""
    found: dict[int, set[str]] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] != "0A":
            continue
        address_hex, port_hex = fields[1].split(":")
        address = ".".join(str(int(address_hex[i : i + 2], 16)) for i in (6, 4, 2, 0))
        found.setdefault(int(port_hex, 16), set()).add(address)
    return found


def test_only_nginx_listens_beyond_loopback(stack: StackInfo) -> None:
    listening = listening_addresses()
    for name in (
        "FILES_PORT",
        "METADATA_PORT",
        "STORAGE_PORT",
        "ANALYTICS_PORT",
        "POSTGRES_PORT",
        "KAFKA_PORT",
        "S3_PORT",
    ):
        port = int(stack.env[name])
        assert listening.get(port) == {"127.0.0.1"}, (name, listening.get(port))
    assert int(stack.env["PORT"]) in listening


@pytest.mark.parametrize("service", INTERNAL)
def test_internal_services_refuse_calls_without_the_service_token(stack: StackInfo, service: str) -> None:
    base = stack.env[service]
    probe = {
        "METADATA_URL": "/users/anyone",
        "STORAGE_URL": "/objects/stale?older_than_seconds=0",
        "ANALYTICS_URL": "/windows",
    }[service]
    for headers in ({}, {"X-Internal-Token": "wrong"}):
        response = httpx.get(base + probe, headers=headers)
        assert response.status_code == 401, (service, headers)
        assert response.json()["error"]["code"] == "internal_token_required"
    assert httpx.get(base + probe, headers=stack.internal_headers()).status_code in (200, 404)


def test_nginx_routes_no_internal_endpoint(api: httpx.Client, stack: StackInfo) -> None:
    for path in ("/internal/sweep", "/metrics"):
        assert api.post(path).status_code == 404
        assert api.get(path).status_code == 404
    assert httpx.post(f"{stack.env['FILES_URL']}/internal/sweep").status_code == 401


def test_security_headers_and_request_id(api: httpx.Client, alice: User, stack: StackInfo) -> None:
    api.put(f"/users/{alice.name}/files/h.txt", content=b"h", headers=alice.auth)
    for response in (
        api.get("/health"),
        api.get(f"/users/{alice.name}/files/h.txt", headers=alice.auth),
        api.get("/users/x/files"),
        api.get(f"/users/{alice.name}/files/h.txt", headers=alice.auth | {"X-Request-ID": "trace-me-1234"}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert len(response.headers.get_list("x-request-id")) == 1
    assert response.headers["x-request-id"] == "trace-me-1234"
    for part in ("nginx", "files_ms", "metadata_ms", "storage_ms"):
        lines = log_lines_with(stack, part, "trace-me-1234")
        assert lines, part
        assert all(line["request_id"] == "trace-me-1234" for line in lines)


def log_lines_with(stack: StackInfo, part: str, text: str, wait: float = 3.0) -> list[dict[str, object]]:
    """JSON log lines of a part containing ``text``; a line lands just after its response."""
    deadline = time.monotonic() + wait
    while True:
        log = (stack.home / "logs" / f"{part}.log").read_text(errors="replace")
        lines = [json.loads(line) for line in log.splitlines() if text in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_no_secrets_in_logs(api: httpx.Client, stack: StackInfo, alice: User) -> None:
    api.post("/auth/token", data={"username": alice.name, "password": alice.password})
    everything = "".join(p.read_text(errors="replace") for p in (stack.home / "logs").glob("*.log"))
    assert alice.password not in everything
    assert alice.token not in everything
    assert stack.env["INTERNAL_TOKEN"] not in everything
    assert stack.env["S3_KEY_SECRET"] not in everything


def test_metrics_on_each_service(stack: StackInfo) -> None:
    for name in ("FILES_URL", *INTERNAL):
        text = httpx.get(f"{stack.env[name]}/metrics").text
        assert "liftbit_http_requests_total" in text, name
        assert "liftbit_http_request_duration_seconds_bucket" in text, name
    assert "liftbit_outbox_backlog" in httpx.get(f"{stack.env['METADATA_URL']}/metrics").text
    analytics = httpx.get(f"{stack.env['ANALYTICS_URL']}/metrics").text
    lag = [line for line in analytics.splitlines() if line.startswith("liftbit_analytics_consumer_lag ")]
    assert len(lag) == 1
    assert float(lag[0].split()[1]) >= 0
