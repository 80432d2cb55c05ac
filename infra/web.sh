#!/usr/bin/env bash
# Build the web app (web/) into web/dist: `npm ci` from the committed package-lock.json, then
# `npm run build` (type check + Vite). Both are skipped when their inputs are unchanged, so a
# second `make up` costs a hash of the sources. infra/deploy.py uploads web/dist to the web bucket.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/infra/lib.sh"
WEB="$ROOT/web"

if ! command -v npm >/dev/null; then
  log "npm not found: the web app is not built (install Node.js 20.19+ and npm)"
  exit 1
fi

lock_stamp="$(hash_files "$WEB/package-lock.json")"
if [[ "$(cat "$WEB/node_modules/.photostack-stamp" 2>/dev/null)" != "$lock_stamp" ]]; then
  log "installing the web app's packages (npm ci)"
  (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_stamp" >"$WEB/node_modules/.photostack-stamp"
fi

# The build's inputs: sources, page, configs and the lock file, in a stable order.
build_stamp="$(cd "$WEB" && find src index.html vite.config.ts tsconfig.json package-lock.json -type f -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [[ "$(cat "$WEB/dist/.photostack-stamp" 2>/dev/null)" != "$build_stamp" ]]; then
  log "building the web app (tsc + vite)"
  (cd "$WEB" && npm run --silent build -- --logLevel warn)
  echo "$build_stamp" >"$WEB/dist/.photostack-stamp"
fi

# The browser tests (tests/e2e/web) drive Debian's Chromium through Playwright's executable_path;
# Playwright's own browser download cannot be fetched here. Installed once, from setup.
if [[ "${1:-}" == "--with-browser" ]] && ! command -v chromium >/dev/null; then
  log "installing chromium from Debian's packages (for the browser tests)"
  mkdir -p "$ROOT/.state/log"
  if [[ ! -f "$ROOT/.state/apt-updated" ]]; then apt-get update -qq && touch "$ROOT/.state/apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >"$ROOT/.state/log/apt-chromium.log" 2>&1 \
    || { tail -20 "$ROOT/.state/log/apt-chromium.log" >&2; exit 1; }
fi
