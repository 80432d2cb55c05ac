#!/usr/bin/env bash
# The real SAM CLI in its own virtualenv (.state/sam-venv, from infra/sam/requirements.lock: its
# pins clash with the project's), and `photostack-sam` (the Docker-free local invoke) in .venv/bin.
# Idempotent and quick when nothing changed (the virtualenv is rebuilt only when the lock changes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/infra/lib.sh"

ensure_venv "$ROOT/.state/sam-venv" "$(hash_files "$ROOT/infra/sam/requirements.lock")" \
  -r "$ROOT/infra/sam/requirements.lock"
ln -sfn "$ROOT/infra/sam/photostack-sam" "$ROOT/.venv/bin/photostack-sam"
