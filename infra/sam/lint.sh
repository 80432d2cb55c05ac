#!/usr/bin/env bash
# The real SAM CLI on template.yaml (part of `make lint`): `sam validate --lint` and `sam build`.
# sam build runs the python3.13 first on PATH (the Lambda runtime mirror's) and pip for the layers'
# requirements; it builds, and keeps its caches, under .build/sam (run from there: SAM puts its
# dependency cache .aws-sam/ in the working directory), so nothing is left in the repository.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SAM="$ROOT/.state/sam-venv/bin/sam"
[[ -x "$SAM" ]] || { echo "no SAM CLI at $SAM: run make setup" >&2; exit 1; }
export SAM_CLI_TELEMETRY=0
export PATH="$ROOT/.state/lambda-runtime/bin:$PATH"
"$SAM" validate --lint --template-file "$ROOT/template.yaml"
mkdir -p "$ROOT/.build/sam"
cd "$ROOT/.build/sam"
"$SAM" build --template-file "$ROOT/template.yaml" --build-dir build --cache-dir cache --cached >build.log 2>&1 \
  || { cat build.log >&2; exit 1; }
grep -F "Build Succeeded" build.log
