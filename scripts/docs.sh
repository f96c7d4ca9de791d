#!/usr/bin/env bash
# `make docs`: regenerate the README's pictures.
#   img/architecture.png   from img/architecture.dot (Graphviz)
#   img/swagger-*.png      Swagger UI screenshots (and img/web-*.png, the web app's screens) from a throw-away stack (scripts/screenshots.py,
#                          headless Chromium); arguments go to that script, e.g. --url of a running stack.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dot >/dev/null || missing+=(graphviz)
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || missing+=(chromium chromium-driver)
if ((${#missing[@]})); then
    echo "== apt: ${missing[*]}"
    as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "== img/architecture.png"
dot -Tpng -Gdpi=110 img/architecture.dot -o img/architecture.png

echo "== img/swagger-*.png, img/web-*.png"
.venv/bin/python scripts/screenshots.py "$@"
