#!/usr/bin/env bash
# Install grpcurl (for poking the photo sidecar by hand, and for its reflection test) from the
# Go module proxy into the cache outside the repo; prints the binary's path. Idempotent.
set -euo pipefail
VERSION="${GRPCURL_VERSION:-v1.9.4}"
CACHE="${PHOTOSTACK_CACHE:-$HOME/.cache/photostack}"
BIN="$CACHE/bin/grpcurl-$VERSION"
if [[ ! -x "$BIN" ]]; then
  mkdir -p "$CACHE/bin" "$CACHE/gomod"
  exec 9>"$CACHE/grpcurl-build.lock"
  flock 9
  if [[ ! -x "$BIN" ]]; then
    echo "building grpcurl $VERSION (first time only)..." >&2
    GOBIN="$(mktemp -d)" GOMODCACHE="${GOMODCACHE:-$CACHE/gomod}" GOFLAGS="-mod=mod -buildvcs=false" \
      GOTOOLCHAIN=local bash -c "go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$VERSION && mv \"\$GOBIN/grpcurl\" '$BIN.tmp'"
    mv "$BIN.tmp" "$BIN"
  fi
fi
echo "$BIN"
