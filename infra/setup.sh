#!/usr/bin/env bash
# Create every virtualenv from the pinned files. Quick and silent when nothing changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/infra/lib.sh"
mkdir -p "$ROOT/.state"
ensure_venv "$ROOT/.venv" "$(hash_files "$ROOT"/requirements/*.txt)" -r "$ROOT/requirements/dev.txt"
bash "$ROOT/infra/localstack/install.sh"
