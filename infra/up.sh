#!/usr/bin/env bash
# `make up`: start everything on embedded defaults, migrate, deploy, print where things are.
# Idempotent: a second run finds everything up and the stack unchanged.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/infra/lib.sh"
started=$SECONDS

bash "$ROOT/infra/services.sh" up postgres pgbouncer redis consul localstack
"$ROOT/.venv/bin/python" "$ROOT/infra/db/migrate.py"
bash "$ROOT/infra/services.sh" up sidecar
"$ROOT/.venv/bin/python" "$ROOT/infra/deploy.py"
# No photo stays `ready` with its objects gone from S3 (storage_check.py; one line of what it
# found). PHOTOSTACK_STORAGE_CHECK=report only reports, =off skips it.
case "${PHOTOSTACK_STORAGE_CHECK:-fix}" in
  off) ;;
  report) (cd "$ROOT" && "$ROOT/.venv/bin/python" -m infra.storage_check --dry-run) ;;
  *) (cd "$ROOT" && "$ROOT/.venv/bin/python" -m infra.storage_check) ;;
esac

"$ROOT/.venv/bin/python" - "$ROOT/.state/stack-outputs.json" "$((SECONDS - started))" \
  "${PHOTOSTACK_DB_NAME:-photostack}" <<'PY'
import json, sys
outputs = json.load(open(sys.argv[1]))
print(f"""
photostack is up ({sys.argv[2]} s)
  web app           {outputs.get('WebUrl', '(not published)')}
  users API         {outputs['UsersApiUrl']}
  photos API        {outputs['PhotosApiUrl']}
  transactions API  {outputs['TransactionsApiUrl']}
  uploads bucket    s3://{outputs['UploadsBucketName']}  (S3 endpoint {outputs['Endpoint']})
  photo sidecars    127.0.0.1:15051, 127.0.0.1:15053 (gRPC over Connect mTLS; Consul service photo-sidecar)
  Consul UI         http://127.0.0.1:8500/ui
  PostgreSQL        postgresql://photostack:photostack@127.0.0.1:5432/{sys.argv[3]} (migrations)
  PgBouncer         postgresql://photostack:photostack@127.0.0.1:6432/{sys.argv[3]} (functions, sidecars)
  Redis             redis://127.0.0.1:6379/0
stop with `make down` (keeps the database); logs in .state/log/
""")
PY
