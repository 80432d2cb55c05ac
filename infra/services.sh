#!/usr/bin/env bash
# Start and stop the services photostack needs, idempotently and on loopback only.
#
#   infra/services.sh up   [postgres redis consul localstack sidecar]   (default: all)
#   infra/services.sh down [...]                                 stops only what `up` started
#   infra/services.sh restart <service...>                      stop (if `up` started it) and start
#   infra/services.sh status
#
# What `up` started is remembered in .state/started/<name>, so `down` leaves alone a
# service that was already running, and never drops the database.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.state"
CACHE="${PHOTOSTACK_CACHE:-$HOME/.cache/photostack}"
mkdir -p "$STATE/started" "$STATE/log" "$STATE/run"

PG_USER="${PHOTOSTACK_DB_USER:-photostack}"
PG_PASSWORD="${PHOTOSTACK_DB_PASSWORD:-photostack}"
PG_DB="${PHOTOSTACK_DB_NAME:-photostack}"
PG_MAX_CONNECTIONS="${PHOTOSTACK_DB_MAX_CONNECTIONS:-100}"
REDIS_PORT="${PHOTOSTACK_REDIS_PORT:-6379}"
CONSUL_HTTP_PORT="${PHOTOSTACK_CONSUL_PORT:-8500}"
LOCALSTACK_PORT="${PHOTOSTACK_LOCALSTACK_PORT:-4566}"

log() { printf '[services] %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]} from Debian's packages"
  if [[ ! -f "$STATE/apt-updated" ]]; then apt-get update -qq && touch "$STATE/apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$STATE/log/apt.log" 2>&1 \
    || { tail -20 "$STATE/log/apt.log" >&2; return 1; }
}

# A daemon must not inherit this script's open files: started under
# `flock /tmp/ps/stack.lock infra/services.sh ...`, Consul or the sidecar would otherwise keep the
# lock's file open, and so the lock held, for as long as they run.
close_inherited_fds() {
  local fd
  for fd in $(ls /proc/$BASHPID/fd); do
    if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

wait_for() {  # wait_for <seconds> <description> <command...>
  local secs="$1" what="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then log "timed out waiting for $what"; return 1; fi
    sleep 0.3
  done
}

# --- PostgreSQL (Debian cluster on 127.0.0.1:5432) -------------------------------
pg_cluster() { pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1, $2}'; }

postgres_up() {
  apt_install postgresql
  local ver name
  read -r ver name < <(pg_cluster) || true
  if [[ -z "${ver:-}" ]]; then
    ver="$(ls /usr/lib/postgresql | sort -V | tail -1)"; name=main
    pg_createcluster "$ver" "$name" >/dev/null
  fi
  # Connections: Debian's default of 100 is plenty since PgBouncer bounds the functions' and the
  # sidecars' (at most 2 x cores + 1 and 16 server connections, infra/pgbouncer/pgbouncer.ini);
  # the rest is for direct clients (migrations, operators). It was 300 before PgBouncer, when each function
  # environment opened its own pool; a cluster still set so is set back (a restart).
  if [[ "$(pg_conftool -s "$ver" "$name" show max_connections 2>/dev/null)" != "$PG_MAX_CONNECTIONS" ]]; then
    pg_conftool "$ver" "$name" set max_connections "$PG_MAX_CONNECTIONS"
    if pg_lsclusters --no-header | awk -v v="$ver" -v n="$name" '$1==v && $2==n {print $4}' | grep -q online; then
      log "restarting PostgreSQL $ver/$name for max_connections=$PG_MAX_CONNECTIONS"
      (close_inherited_fds; pg_ctlcluster "$ver" "$name" restart)
    fi
  fi
  # Group commit: a commit waits up to 0.5 ms for others to share its WAL flush when at least 4
  # more transactions are open. Orders are one short transaction each and half of those in flight
  # waited on the flush (pg_stat_activity, 32 clients); make bench, same hour, alternating runs:
  # 32 clients 592-596 orders/s (p95 121-127 ms) with it, 466-524 (p95 136-166 ms) without.
  # Durability is unchanged: a commit still returns only after its flush. Read at reload.
  local setting value
  for setting in commit_delay=500 commit_siblings=4; do
    value="${setting#*=}"; setting="${setting%%=*}"
    if [[ "$(pg_conftool -s "$ver" "$name" show "$setting" 2>/dev/null)" != "$value" ]]; then
      pg_conftool "$ver" "$name" set "$setting" "$value"
      if pg_lsclusters --no-header | awk -v v="$ver" -v n="$name" '$1==v && $2==n {print $4}' | grep -q online; then
        (close_inherited_fds; pg_ctlcluster "$ver" "$name" reload)
      fi
    fi
  done
  if ! pg_lsclusters --no-header | awk -v v="$ver" -v n="$name" '$1==v && $2==n {print $4}' | grep -q online; then
    log "starting PostgreSQL $ver/$name"
    (close_inherited_fds; pg_ctlcluster "$ver" "$name" start)
    touch "$STATE/started/postgres"
  fi
  wait_for 30 postgres runuser -u postgres -- pg_isready -q -h 127.0.0.1
  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE "$PG_USER" LOGIN PASSWORD '$PG_PASSWORD' CREATEDB;
  END IF;
END \$\$;
SQL
  for db in "$PG_DB"; do
    if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      runuser -u postgres -- createdb -O "$PG_USER" "$db"
    fi
  done
}

postgres_down() {
  local ver name
  read -r ver name < <(pg_cluster) || return 0
  pg_ctlcluster "$ver" "$name" stop || true
}

# --- PgBouncer (transaction pooling in front of PostgreSQL, loopback) -------------
# The functions and the sidecars connect here (PHOTOSTACK_DATABASE_URL), as they would to RDS
# Proxy on AWS; migrations connect to PostgreSQL directly. Config: infra/pgbouncer/pgbouncer.ini.
# PgBouncer refuses to run as root: it runs as the cluster's owner, postgres.
PGBOUNCER_PORT="${PHOTOSTACK_PGBOUNCER_PORT:-6432}"
PGBOUNCER_DIR="$STATE/pgbouncer"

pgbouncer_pid() { cat "$PGBOUNCER_DIR/pgbouncer.pid" 2>/dev/null; }
pgbouncer_running() { local pid; pid="$(pgbouncer_pid)" && [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }

# The functions' pool: how many of their transactions PostgreSQL runs at once. More than the
# cores can run only adds lock and cache contention and unfair waits: PgBouncer's queue is FIFO,
# the kernel's run queue of 20 backends on 2 cores is not. Sized as (2 x cores) + 1 disk (the
# PostgreSQL wiki's and HikariCP's formula); a backend waiting on its WAL flush is what the extra
# connections cover. Measured (issue #17, the ledger bench's 32 clients, 2 cores, alternating
# rounds of 4 s): pool 20: 989 / 1,090 / 1,084 / 982 orders/s, p95 71 / 65 / 65 / 70 ms; pool 4:
# 1,069 / 1,142 / 1,113 / 1,017, p95 40 / 40 / 37 / 51 ms (its cores 9 % idle while all four
# backends waited on WAL); pool 5, 11 rounds: 859-1,089 orders/s, p95 39-51 ms in ten, 78 in one.
functions_pool_size() { echo $((2 * $(nproc) + 1)); }

pgbouncer_render() {  # the config and the auth file, rewritten on every `up`; sets PGBOUNCER_CHANGED
  install -d -o postgres -g postgres -m 700 "$PGBOUNCER_DIR"
  touch "$STATE/log/pgbouncer.log"; chown postgres:postgres "$STATE/log/pgbouncer.log"
  sed -e "s|@DB@|$PG_DB|g" -e "s|@PG_PORT@|5432|g" -e "s|@PORT@|$PGBOUNCER_PORT|g" \
      -e "s|@DIR@|$PGBOUNCER_DIR|g" -e "s|@LOG@|$STATE/log/pgbouncer.log|g" -e "s|@USER@|$PG_USER|g" \
      -e "s|@FUNCTIONS_POOL@|${PHOTOSTACK_PGBOUNCER_POOL:-$(functions_pool_size)}|g" \
      -e "s|@SIDECAR_POOL@|${PHOTOSTACK_PGBOUNCER_SIDECAR_POOL:-16}|g" \
      "$ROOT/infra/pgbouncer/pgbouncer.ini" >"$PGBOUNCER_DIR/pgbouncer.ini.new"
  # The role's SCRAM verifier as PostgreSQL stores it (not the password): clients prove the
  # password to PgBouncer, which then logs in to PostgreSQL with their SCRAM keys.
  (umask 077
   runuser -u postgres -- psql -tAq -v ON_ERROR_STOP=1 -d postgres \
     -c "SELECT format('\"%s\" \"%s\"', rolname, rolpassword) FROM pg_authid WHERE rolname = '$PG_USER' AND rolpassword IS NOT NULL" \
     >"$PGBOUNCER_DIR/userlist.txt.new")
  [[ -s "$PGBOUNCER_DIR/userlist.txt.new" ]] || { log "role $PG_USER has no password for PgBouncer"; return 1; }
  local f
  PGBOUNCER_CHANGED=0
  for f in pgbouncer.ini userlist.txt; do
    if ! cmp -s "$PGBOUNCER_DIR/$f.new" "$PGBOUNCER_DIR/$f"; then
      mv "$PGBOUNCER_DIR/$f.new" "$PGBOUNCER_DIR/$f"; PGBOUNCER_CHANGED=1
    else rm -f "$PGBOUNCER_DIR/$f.new"; fi
  done
  chown postgres:postgres "$PGBOUNCER_DIR"/*; chmod 600 "$PGBOUNCER_DIR"/*
}

pgbouncer_up() {
  if ! dpkg -s pgbouncer >/dev/null 2>&1; then
    apt_install pgbouncer
    # Debian starts the package's own instance (/etc/pgbouncer, port 6432) where systemd runs:
    # it was installed just now for this one, which replaces it.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet pgbouncer 2>/dev/null; then
      log "stopping Debian's pgbouncer.service (photostack runs its own PgBouncer)"
      systemctl disable --now pgbouncer >/dev/null 2>&1 || true
    fi
  fi
  wait_for 30 postgres runuser -u postgres -- pg_isready -q -h 127.0.0.1
  pgbouncer_render
  if ((PGBOUNCER_CHANGED)) && pgbouncer_running; then
    log "reloading PgBouncer's config"
    kill -HUP "$(pgbouncer_pid)"
  fi
  if pgbouncer_running; then return 0; fi
  if pg_isready -q -h 127.0.0.1 -p "$PGBOUNCER_PORT" 2>/dev/null; then
    log "127.0.0.1:$PGBOUNCER_PORT is taken by another server (Debian's pgbouncer.service?):" \
        "stop it or set PHOTOSTACK_PGBOUNCER_PORT"
    return 1
  fi
  log "starting PgBouncer on 127.0.0.1:$PGBOUNCER_PORT (transaction pooling)"
  (close_inherited_fds; runuser -u postgres -- pgbouncer -d -q "$PGBOUNCER_DIR/pgbouncer.ini")
  touch "$STATE/started/pgbouncer"
  wait_for 15 pgbouncer pg_isready -q -h 127.0.0.1 -p "$PGBOUNCER_PORT" -U "$PG_USER" -d pgbouncer
}

pgbouncer_down() {
  local pid; pid="$(pgbouncer_pid)" || return 0
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

# --- Redis (own instance, loopback) ---------------------------------------------
redis_up() {
  apt_install redis-server
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then return 0; fi
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  (close_inherited_fds
   redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save "" --appendonly no \
     --dir "$STATE/run" --pidfile "$STATE/run/redis.pid" --logfile "$STATE/log/redis.log")
  touch "$STATE/started/redis"
  wait_for 10 redis redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
}

redis_down() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave 2>/dev/null || true; }

# --- Consul (dev agent built from its Go module, ACLs on, Connect CA) -------------
# ACLs default to deny. The management token and each service's token are generated once into
# .state/consul/ (mode 600, never committed) and re-applied after every start, since a dev
# agent keeps everything in memory; `up` applies them on every run (idempotent, a second).
CONSUL_STATE="$STATE/consul"

consul_acl() {
  local py="$ROOT/.venv/bin/python"; [[ -x "$py" ]] || py=python3
  "$py" "$ROOT/infra/consul/acl.py" "$@" --state "$CONSUL_STATE"
}

consul_up() {
  if curl -fsS "http://127.0.0.1:$CONSUL_HTTP_PORT/v1/status/leader" 2>/dev/null | grep -q ':'; then
    consul_acl apply --addr "127.0.0.1:$CONSUL_HTTP_PORT"
    return 0
  fi
  local bin
  bin="$(bash "$ROOT/infra/consul/build.sh" | tail -1)"
  consul_acl init
  log "starting Consul dev agent on 127.0.0.1:$CONSUL_HTTP_PORT (ACLs: default deny)"
  (close_inherited_fds; exec nohup "$bin" agent -dev -bind 127.0.0.1 -client 127.0.0.1 \
    -http-port "$CONSUL_HTTP_PORT" -grpc-port 8502 -config-file "$ROOT/infra/consul/dev.hcl" \
    -config-file "$CONSUL_STATE/acl.hcl" >"$STATE/log/consul.log" 2>&1) &
  echo $! >"$STATE/run/consul.pid"
  touch "$STATE/started/consul"
  wait_for 60 consul bash -c "curl -fsS http://127.0.0.1:$CONSUL_HTTP_PORT/v1/status/leader | grep -q ':'"
  consul_acl apply --addr "127.0.0.1:$CONSUL_HTTP_PORT"
}

consul_down() { kill_pidfile consul; }

# --- LocalStack (host mode, own virtualenv, our process executor) --------------
localstack_up() {
  if curl -fsS "http://127.0.0.1:$LOCALSTACK_PORT/_localstack/health" >/dev/null 2>&1; then return 0; fi
  bash "$ROOT/infra/localstack/install.sh"
  log "starting LocalStack on 127.0.0.1:$LOCALSTACK_PORT"
  mkdir -p "$STATE/localstack"
  (
    cd "$STATE/localstack"
    export GATEWAY_LISTEN="127.0.0.1:$LOCALSTACK_PORT"
    export LOCALSTACK_VOLUME_DIR="$STATE/localstack/volume"
    # A temp folder of its own ($TMPDIR/localstack). LocalStack takes this machine for a container,
    # so its temp folder would be the machine's /tmp/localstack, which every LocalStack empties when
    # it starts and stops (CLEAR_TMP_FOLDER), and CloudWatch keeps its metrics (SQLite) in it: the
    # durable-state test's own LocalStack deleted the store under the running stack, and every
    # PutMetricData after it (EMF metrics, Lambda's) failed with "unable to open database file".
    export TMPDIR="$STATE/localstack/tmp"
    mkdir -p "$TMPDIR"
    export SERVICES="s3,sqs,lambda,apigateway,cloudformation,logs,iam,sts,ssm,events,secretsmanager,scheduler,cloudwatch"
    export LAMBDA_RUNTIME_EXECUTOR=process
    export PHOTOSTACK_LAMBDA_PYTHON="$STATE/lambda-runtime/bin/python"
    # Local concurrency policy (executor pool.py): at most this many runtime processes per function
    # version, default the core count plus one; a burst queues for a free one instead of
    # starting a process per request. Unset: the executor derives it from os.process_cpu_count().
    if [[ -n "${PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS:-}" ]]; then export PHOTOSTACK_LAMBDA_MAX_ENVIRONMENTS; fi
    # LocalStack's own calls to itself (API Gateway -> Lambda invoke, Lambda -> CloudWatch Logs and
    # metrics per invocation) go through the gateway in memory instead of over loopback HTTP.
    export IN_MEMORY_CLIENT=1
    # LocalStack's request log keeps failed requests (status >= 400) only: one INFO line per
    # request was a tenth of its CPU under load (quiet_logs.py). PHOTOSTACK_LOCALSTACK_REQUEST_LOG=all
    # before `make up` logs every request again.
    export PHOTOSTACK_LOCALSTACK_REQUEST_LOG="${PHOTOSTACK_LOCALSTACK_REQUEST_LOG:-errors}"
    # S3 checks presigned signatures (content type and length are signed), as AWS does.
    export S3_SKIP_SIGNATURE_VALIDATION=0
    # Buckets are private as on AWS: anonymous requests are refused (our s3_access handler),
    # except reads of the web app's bucket, which the template makes a public static site.
    export PHOTOSTACK_S3_PUBLIC_READ_BUCKETS="${PHOTOSTACK_WEB_BUCKET:-photostack-web}"
    # Async retries (S3 -> upload function) after 10 s, 20 s instead of 60 s, 120 s: a photo
    # whose first attempt met a restarting sidecar is ready sooner on a developer machine.
    export LAMBDA_RETRY_BASE_DELAY_SECONDS=10
    # S3 objects and SQS messages survive make down / make up and kill -9 (durable_state.py in
    # our plugin package: journaled before LocalStack answers, restored at start), under
    # .state/durable. PHOTOSTACK_DURABLE_STATE=0 gives LocalStack's in-memory S3 and SQS back.
    if [[ "${PHOTOSTACK_DURABLE_STATE:-1}" != 0 ]]; then
      export PROVIDER_OVERRIDE_S3=durable PROVIDER_OVERRIDE_SQS=durable
      export PHOTOSTACK_DURABLE_STATE_DIR="${PHOTOSTACK_DURABLE_STATE_DIR:-$STATE/durable}"
      export PHOTOSTACK_DURABLE_FSYNC="${PHOTOSTACK_DURABLE_FSYNC:-1}"
    fi
    export DNS_ADDRESS=0 SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 LOCALSTACK_TELEMETRY=0
    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
    close_inherited_fds  # a caller's lock (flock) must not live on in the daemon
    nohup "$STATE/localstack-venv/bin/python" -m localstack.runtime.main \
      >"$STATE/log/localstack.log" 2>&1 &
    echo $! >"$STATE/run/localstack.pid"
  )
  touch "$STATE/started/localstack"
  wait_for 120 localstack bash -c \
    "kill -0 \$(cat '$STATE/run/localstack.pid') || exit 0; curl -fsS http://127.0.0.1:$LOCALSTACK_PORT/_localstack/health | grep -q '\"lambda\"'"
  if ! kill -0 "$(cat "$STATE/run/localstack.pid")" 2>/dev/null; then
    log "LocalStack exited during start-up; last lines of $STATE/log/localstack.log:"
    tail -20 "$STATE/log/localstack.log" >&2
    rm -f "$STATE/started/localstack"
    return 1
  fi
}

localstack_down() {
  kill_pidfile localstack
  # Function environments notice within a second that LocalStack is gone; make sure.
  pkill -f "photostack_localstack_executor/runtime.py" 2>/dev/null || true
}

# --- Photo sidecar (gRPC over Connect mTLS, registers itself in Consul) -----------
# It serves only mutual TLS with its Connect certificate, so it needs Consul first; its
# health check answers in plaintext on a loopback port of its own (what Consul probes).
# Below the kernel's ephemeral range (32768-60999): a port in it is any outgoing connection's or
# free-port probe's to take while an instance is down, and the instance then cannot bind it again
# (a CI run lost sidecar 1 that way after the HA test killed it: "Address already in use").
SIDECAR_PORT="${PHOTOSTACK_SIDECAR_PORT:-15051}"
SIDECAR_HEALTH_PORT="${PHOTOSTACK_SIDECAR_HEALTH_PORT:-15052}"
# High availability by default: two instances, each on its own ports, both registered in Consul
# as photo-sidecar; callers move to the other within their deadline when one goes away.
# PHOTOSTACK_SIDECAR_INSTANCES=1 runs one. Instance n listens on SIDECAR_PORT + 2(n-1).
SIDECAR_INSTANCES="${PHOTOSTACK_SIDECAR_INSTANCES:-2}"

# The local functions' PHOTOSTACK_SECRETS_MAX_AGE_S (template.yaml, IsLocal): a rotated JWT key
# signs once every copy this old has been re-read (photostack.jwt_keys), the sidecar's included.
LOCAL_SECRETS_MAX_AGE_S=30
sidecar_name() { if (($1 == 1)); then echo sidecar; else echo "sidecar$1"; fi; }
sidecar_port() { echo $((SIDECAR_PORT + 2 * ($1 - 1))); }
sidecar_health_port() { echo $((SIDECAR_HEALTH_PORT + 2 * ($1 - 1))); }

sidecar_instance_healthy() {
  "$ROOT/.venv/bin/python" - "$(sidecar_health_port "$1")" <<'PY' >/dev/null 2>&1
import sys, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}")
reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
sys.exit(0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1)
PY
}

sidecar_healthy() {
  local n
  for ((n = 1; n <= SIDECAR_INSTANCES; n++)); do sidecar_instance_healthy "$n" || return 1; done
}

sidecar_instance_up() {
  local n="$1" name port health
  name="$(sidecar_name "$n")"; port="$(sidecar_port "$n")"; health="$(sidecar_health_port "$n")"
  if sidecar_instance_healthy "$n"; then return 0; fi
  log "starting photo sidecar $n on 127.0.0.1:$port (mTLS; health on 127.0.0.1:$health)"
  (
    cd "$ROOT"
    close_inherited_fds
    PHOTOSTACK_CONSUL_ADDR="${PHOTOSTACK_CONSUL_ADDR-127.0.0.1:$CONSUL_HTTP_PORT}" \
    PHOTOSTACK_CONSUL_TOKEN_FILE="$CONSUL_STATE/tokens/photo-sidecar.token" \
    PHOTOSTACK_SECRETS_MAX_AGE_S="${PHOTOSTACK_SECRETS_MAX_AGE_S:-$LOCAL_SECRETS_MAX_AGE_S}" \
    PHOTOSTACK_DATABASE_URL="${PHOTOSTACK_SIDECAR_DATABASE_URL:-postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PGBOUNCER_PORT/${PG_DB}_sidecar}" \
      nohup "$ROOT/.venv/bin/python" -m sidecar --port "$port" --health-port "$health" \
        --pins-file "$STATE/sidecar/$(sidecar_name "$n" | sed 's/^sidecar/serving/').pem" \
      >"$STATE/log/$name.log" 2>&1 &
    echo $! >"$STATE/run/$name.pid"
  )
}

sidecar_up() {
  if sidecar_healthy; then return 0; fi
  consul_up
  local n
  for ((n = 1; n <= SIDECAR_INSTANCES; n++)); do sidecar_instance_up "$n"; done
  touch "$STATE/started/sidecar"
  for ((n = 1; n <= SIDECAR_INSTANCES; n++)); do
    wait_for 30 "sidecar $n" sidecar_instance_healthy "$n" \
      || { tail -20 "$STATE/log/$(sidecar_name "$n").log" >&2; return 1; }
  done
}

sidecar_down() {
  local n
  for ((n = 1; n <= SIDECAR_INSTANCES; n++)); do kill_pidfile "$(sidecar_name "$n")"; done
}

kill_pidfile() {
  local pidfile="$STATE/run/$1.pid"
  [[ -f "$pidfile" ]] || return 0
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

status() {
  printf 'postgres   %s\n' "$(pg_isready -h 127.0.0.1 -q && echo up || echo down)"
  printf 'pgbouncer  %s\n' "$(pg_isready -h 127.0.0.1 -p "$PGBOUNCER_PORT" -U "$PG_USER" -d pgbouncer -q && echo up || echo down)"
  printf 'redis      %s\n' "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && echo up || echo down)"
  printf 'consul     %s\n' "$(curl -fsS "http://127.0.0.1:$CONSUL_HTTP_PORT/v1/status/leader" >/dev/null 2>&1 && echo up || echo down)"
  local n
  for ((n = 1; n <= SIDECAR_INSTANCES; n++)); do
    printf '%-10s %s\n' "$(sidecar_name "$n")" "$(sidecar_instance_healthy "$n" && echo up || echo down)"
  done
  printf 'localstack %s\n' "$(curl -fsS "http://127.0.0.1:$LOCALSTACK_PORT/_localstack/health" >/dev/null 2>&1 && echo up || echo down)"
}

ALL=(postgres pgbouncer redis consul localstack sidecar)
cmd="${1:-status}"; shift || true
names=("$@"); ((${#names[@]})) || names=("${ALL[@]}")
for n in "${names[@]}"; do
  # `status` lists each sidecar instance, but they start and stop together as `sidecar`.
  [[ " ${ALL[*]} " == *" $n "* ]] || { echo "unknown service '$n' (one of: ${ALL[*]}; 'sidecar' is every instance)" >&2; exit 2; }
done
case "$cmd" in
  up) for n in "${names[@]}"; do "${n}_up"; done ;;
  down)
    for ((i=${#names[@]}-1; i>=0; i--)); do
      n="${names[$i]}"
      if [[ -f "$STATE/started/$n" ]]; then log "stopping $n"; "${n}_down"; rm -f "$STATE/started/$n"; fi
    done ;;
  restart)
    # Only what `up` started can be restarted: anything else is not ours to stop.
    for n in "${names[@]}"; do
      if [[ -f "$STATE/started/$n" ]]; then log "restarting $n"; "${n}_down"; rm -f "$STATE/started/$n"; fi
      "${n}_up"
    done ;;
  status) status ;;
  *) echo "usage: $0 up|down|restart|status [service...]" >&2; exit 2 ;;
esac
