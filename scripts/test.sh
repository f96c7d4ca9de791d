#!/usr/bin/env bash
# `make test`: lint and type checks (the web app's tsc too), the compose file, the in-process tier, then every other test
# against a throw-away stack (started by tests/conftest.py on free ports in a temporary folder,
# stopped here in any case). `make test-fast` (--fast): the in-process tier alone.
set -euo pipefail
cd "$(dirname "$0")/.."

# No server, no stack: files_ms in-process around fakes (tests/fast) and the unit tests of pure code.
FAST_TIER=(tests/fast tests/common tests/files_ms tests/storage_ms)
fast_tier() {
    # schemathesis's pytest plugin costs ~2 s of CPU at start; only tests/contract uses schemathesis.
    .venv/bin/pytest -p no:cacheprovider -p no:schemathesis "${FAST_TIER[@]}" "$@"
}

if [[ "${1:-}" == "--fast" ]]; then
    shift
    fast_tier "$@"
    exit
fi

echo "== ruff, mypy"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .

echo "== web app: tsc --noEmit (TypeScript strict)"
npm run --prefix web --silent lint

echo "== docker-compose.yml"
docker-compose -f docker-compose.yml config -q

LIFTBIT_TEST_HOME=$(mktemp -d /tmp/liftbit-test.XXXXXX)
export LIFTBIT_TEST_HOME
cleanup() {
    .venv/bin/python -m scripts.stack down --home "$LIFTBIT_TEST_HOME" >/dev/null 2>&1 || true
    rm -rf "$LIFTBIT_TEST_HOME"
}
trap cleanup EXIT

echo "== pytest: in-process tier"
fast_tier -q

echo "== pytest: full tier"
.venv/bin/pytest "${FAST_TIER[@]/#/--ignore=}" "$@"
