#!/bin/sh
# Start one photo sidecar instance in a container: listen on, and advertise in Consul, the
# container's own address (on ECS Fargate the task's, from the task metadata endpoint), so that
# callers in other tasks can dial it; mTLS on 50051, the health check on loopback 50052.
# Arguments are passed on (e.g. --workers 32); a first argument that is not an option runs that
# command instead (the one-off tasks: python infra/db/migrate.py, python -m infra.aws.consul_acl).
set -eu
case "${1:-}" in
  ""|-*) ;;
  *) exec "$@" ;;
esac
if [ -z "${PHOTOSTACK_SIDECAR_HOST:-}" ]; then
  if [ -n "${ECS_CONTAINER_METADATA_URI_V4:-}" ]; then
    PHOTOSTACK_SIDECAR_HOST="$(python -c 'import json, os, urllib.request
with urllib.request.urlopen(os.environ["ECS_CONTAINER_METADATA_URI_V4"], timeout=5) as reply:
    print(json.load(reply)["Networks"][0]["IPv4Addresses"][0])')"
  else
    PHOTOSTACK_SIDECAR_HOST="$(hostname -i | cut -d" " -f1)"
  fi
fi
exec python -m sidecar --host "$PHOTOSTACK_SIDECAR_HOST" --port "${PHOTOSTACK_SIDECAR_PORT:-50051}" \
  --health-port "${PHOTOSTACK_SIDECAR_HEALTH_PORT:-50052}" "$@"
