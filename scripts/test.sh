#!/usr/bin/env bash
# `make test`: lint and type checks, the compose file, then every test against a throw-away stack
# (started by tests/conftest.py on free ports in a temporary folder, stopped here in any case).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ruff, mypy"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .

echo "== docker-compose.yml"
docker-compose -f docker-compose.yml config -q

LIFTBIT_TEST_HOME=$(mktemp -d /tmp/liftbit-test.XXXXXX)
export LIFTBIT_TEST_HOME
cleanup() {
    .venv/bin/python -m scripts.stack down --home "$LIFTBIT_TEST_HOME" >/dev/null 2>&1 || true
    rm -rf "$LIFTBIT_TEST_HOME"
}
trap cleanup EXIT

echo "== pytest"
.venv/bin/pytest "$@"
