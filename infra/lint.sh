#!/usr/bin/env bash
# ruff and mypy over the whole project. Each function is type-checked on its own because
# every function has an `app.py` (they would clash as one module in a single mypy run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="$ROOT/.venv/bin"
"$BIN/ruff" check .
"$BIN/cfn-lint" template.yaml
# The real SAM CLI (its own virtualenv): sam validate --lint and sam build, into .build/sam.
bash "$ROOT/infra/sam/lint.sh"
# The production shape: cfn-lint and sam validate --lint on infra/aws/*.yaml, hadolint on sidecar/Dockerfile.
bash "$ROOT/infra/aws/lint.sh"
"$BIN/mypy" layers/core/python/photostack layers/faces/python/facerec layers/faces/python/bibocr layers/faces/python/onnxmodels.py layers/faces/python/onnx_config.py sidecar cli/photostack_cli infra/db infra/deploy.py infra/openapi.py \
  infra/eval_faces.py infra/eval_search.py infra/bib_images.py infra/models infra/sam infra/aws infra/storage_check.py tests
for fn in functions/*/; do
  (cd "$fn" && MYPYPATH="$ROOT/layers/core/python:$ROOT/layers/faces/python" "$BIN/mypy" --config-file "$ROOT/pyproject.toml" .)
done
