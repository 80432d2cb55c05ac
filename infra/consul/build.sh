#!/usr/bin/env bash
# Build a Consul agent binary from its Go module and cache it outside the repo.
#
# No registry here ships a Consul binary, and `go install github.com/hashicorp/consul@tag`
# refuses because Consul's go.mod replaces its nested modules with local folders.
# So: download the tagged module from the Go module proxy, copy it to a scratch folder,
# drop the local replaces (the nested modules then come from the proxy at the versions
# Consul requires) and build there. The source is never copied into this repo.
set -euo pipefail

CONSUL_VERSION="${CONSUL_VERSION:-v1.22.0}"
CACHE="${PHOTOSTACK_CACHE:-$HOME/.cache/photostack}"
BIN="$CACHE/bin/consul-$CONSUL_VERSION"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE/bin" "$CACHE/gomod"
# One build at a time: a second caller waits for the first and reuses its binary.
exec 9>"$CACHE/consul-build.lock"
flock 9
if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi
export GOMODCACHE="${GOMODCACHE:-$CACHE/gomod}"
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
# These two nested modules are served by the proxy but absent from the checksum
# database (Consul never published them on their own), so they cannot be verified there.
export GONOSUMDB="github.com/hashicorp/consul/envoyextensions,github.com/hashicorp/consul/troubleshoot"

work="$(mktemp -d "$CACHE/consul-build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "building consul $CONSUL_VERSION (first time only; a few minutes)..." >&2
cd "$work"
mkdir fetch && cd fetch
go mod init photostack.local/consul-fetch >/dev/null 2>&1
meta="$(go mod download -json "github.com/hashicorp/consul@$CONSUL_VERSION" || true)"
src="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$meta")"
if [[ ! -d "$src" ]]; then
  echo "could not download consul $CONSUL_VERSION from the Go module proxy:" >&2
  echo "$meta" >&2
  exit 1
fi
cd "$work"
cp -r "$src" src
chmod -R u+w src
cd src
for mod in api envoyextensions proto-public sdk troubleshoot; do
  go mod edit -dropreplace "github.com/hashicorp/consul/$mod" 2>/dev/null || true
done
go build -trimpath -ldflags "-s -w" -o "$BIN.tmp" .
mv "$BIN.tmp" "$BIN"
echo "$BIN"
