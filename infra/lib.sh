# Shared shell helpers for infra scripts (sourced, not run).
log() { printf '[photostack] %s\n' "$*" >&2; }

find_python313() {
  local candidate
  for candidate in "${PHOTOSTACK_PYTHON:-}" "$(PYENV_VERSION=3.13.0 command -v python3.13 2>/dev/null)" \
      /root/.pyenv/versions/3.13.0/bin/python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    if PYENV_VERSION=3.13.0 "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  log "Python 3.13 not found (tried pyenv 3.13.0 and /usr/bin/python3.13); set PHOTOSTACK_PYTHON"
  return 1
}

hash_files() { cat "$@" | sha256sum | cut -c1-16; }

# ensure_venv <dir> <stamp> <pip install args...>: create/refresh a virtualenv when the stamp changes.
ensure_venv() {
  local dir="$1" stamp="$2"; shift 2
  if [[ -x "$dir/bin/python" && "$(cat "$dir/.stamp" 2>/dev/null)" == "$stamp" ]]; then return 0; fi
  local py; py="$(find_python313)"
  log "creating virtualenv $(basename "$dir") (first time: a few minutes)"
  [[ -x "$dir/bin/python" ]] || PYENV_VERSION=3.13.0 "$py" -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check --upgrade "pip<26.3"  # chalice pins pip below 26.3
  "$dir/bin/pip" install -q --disable-pip-version-check "$@"
  echo "$stamp" >"$dir/.stamp"
}
