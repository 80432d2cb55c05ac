#!/usr/bin/env bash
# The production shape (part of `make lint`): cfn-lint and the real SAM CLI's `sam validate --lint`
# on every template under infra/aws/, hadolint on sidecar/Dockerfile. template.yaml itself is
# linted by infra/lint.sh and infra/sam/lint.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/.venv/bin"
SAM="$ROOT/.state/sam-venv/bin/sam"
[[ -x "$SAM" ]] || { echo "no SAM CLI at $SAM: run make setup" >&2; exit 1; }
[[ -x "$BIN/hadolint" ]] || { echo "no hadolint in .venv: run make setup" >&2; exit 1; }
export SAM_CLI_TELEMETRY=0
shopt -s nullglob
templates=("$ROOT"/infra/aws/*.yaml)
((${#templates[@]})) || { echo "no templates under infra/aws" >&2; exit 1; }
"$BIN/cfn-lint" "${templates[@]}"
for template in "${templates[@]}"; do
  "$SAM" validate --lint --template-file "$template"
done
"$BIN/hadolint" --failure-threshold info "$ROOT/sidecar/Dockerfile"
echo "hadolint: sidecar/Dockerfile clean"
