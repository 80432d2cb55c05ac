#!/usr/bin/env bash
# Install LocalStack (host mode) and our process executor into their own virtualenv,
# and the Python that function environments run on (mirrors the Lambda runtime).
# Idempotent: reinstalls only when the pinned files or the executor's source change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/infra/lib.sh"

LS_VENV="$ROOT/.state/localstack-venv"
stamp="$(hash_files "$ROOT/infra/localstack/requirements.lock")"
ensure_venv "$LS_VENV" "$stamp" -r "$ROOT/infra/localstack/requirements.lock"

exec_stamp="$(hash_files "$ROOT"/infra/localstack/executor/pyproject.toml "$ROOT"/infra/localstack/executor/photostack_localstack_executor/*.py)"
if [[ "$(cat "$LS_VENV/.executor-stamp" 2>/dev/null)" != "$exec_stamp" ]]; then
  log "installing the process executor into LocalStack's virtualenv"
  # setuptools builds into build/ and keeps what an earlier build put there: without this, a
  # module deleted from the source would still be installed.
  rm -rf "$ROOT/infra/localstack/executor/build"
  "$LS_VENV/bin/pip" install -q --no-deps --force-reinstall "$ROOT/infra/localstack/executor"
  echo "$exec_stamp" >"$LS_VENV/.executor-stamp"
fi

ensure_venv "$ROOT/.state/lambda-runtime" "$(hash_files "$ROOT/requirements/runtime.txt")" \
  -r "$ROOT/requirements/runtime.txt"
