#!/usr/bin/env bash
# Install what LiftBit needs on a fresh Debian machine; quick when everything is already there.
#   - uv (pinned) in .tools/, then the locked virtualenv .venv (uv.lock)
#   - nginx and PostgreSQL from Debian's packages when missing
#   - the web app (web/): npm ci from its lock file and a build into web/dist, only when web/dist
#     is missing or older than the app's sources
#   - with --test: docker-compose, to validate docker-compose.yml (no engine needed), and Debian's
#     chromium for the browser tests (Playwright drives it; never `playwright install`) and the
#     scripts they inject into pages (axe-core), from tests/browser-tools' npm lock file
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
want_test_tools=false
[[ "${1:-}" == "--test" ]] && want_test_tools=true

log() { printf '%s\n' "bootstrap: $*"; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root to run: $*"; exit 1; fi
}

apt_updated=false
apt_install() {
    if ! $apt_updated; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=true
    fi
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. uv, pinned, in a private tool folder (nothing global is touched)
UV=.tools/bin/uv
if [[ ! -x $UV ]] || [[ "$($UV --version 2>/dev/null)" != "uv $UV_VERSION"* ]]; then
    log "installing uv $UV_VERSION"
    python3 -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

# 2. the locked virtualenv; re-synced only when the lock changed
if [[ ! -f .venv/.synced ]] || [[ uv.lock -nt .venv/.synced ]] || [[ pyproject.toml -nt .venv/.synced ]]; then
    log "syncing .venv from uv.lock"
    $UV sync --frozen --quiet --python python3.11
    touch .venv/.synced
fi

# 3. system packages
packages=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || packages+=(nginx)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || packages+=(postgresql)
command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
command -v npm >/dev/null || packages+=(npm)
if $want_test_tools; then
    command -v docker-compose >/dev/null || packages+=(docker-compose)
    [[ -x /usr/bin/chromium ]] || packages+=(chromium)
fi
if ((${#packages[@]})); then
    apt_install "${packages[@]}"
fi

# 4. with --test: the browser tests' npm packages, re-installed only when the lock changed
tools=tests/browser-tools
if $want_test_tools && { [[ ! -f $tools/node_modules/.package-lock.json ]] ||
    [[ $tools/package-lock.json -nt $tools/node_modules/.package-lock.json ]]; }; then
    log "npm ci in $tools"
    npm ci --prefix "$tools" --silent --no-audit --no-fund
fi
# 5. the web app nginx serves at /: rebuilt only when a source is newer than the last build
web=web
if [[ ! -f $web/node_modules/.package-lock.json ]] || [[ $web/package-lock.json -nt $web/node_modules/.package-lock.json ]]; then
    log "npm ci in $web"
    npm ci --prefix "$web" --silent --no-audit --no-fund
fi
if [[ ! -f $web/dist/index.html ]] ||
    [[ -n "$(find $web/src $web/public $web/index.html $web/package-lock.json $web/vite.config.ts $web/tsconfig.json \
        -newer $web/dist/index.html -print -quit)" ]]; then
    log "building the web app into $web/dist"
    npm run --prefix "$web" --silent build
fi
log "ready"
