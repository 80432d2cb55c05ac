#!/usr/bin/env bash
# `make down`: stop only what `make up` started. The database and its data stay, and so do
# LocalStack's S3 objects and SQS messages (.state/durable, see durable_state.py).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/infra/services.sh" down postgres pgbouncer redis consul localstack sidecar  # stopped in reverse order
