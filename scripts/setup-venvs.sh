#!/usr/bin/env bash
# Python virtual environments for the tests that run the stacks people install from a package index
# (Gunicorn 26, Uvicorn, FastAPI, Django), next to Debian's Gunicorn 20.1. They live in .venvs/
# (git-ignored). Safe to run again: a venv whose pinned versions are already installed is left alone.
#
# pip is used as it is configured on this machine (pip config, PIP_* variables): its index and extra
# indexes are not overridden. `--retries 0` stops pip from retrying an unreachable index five times
# per package with back-off (minutes on a machine without network); an index that answers is
# unaffected. Set SETUP_VENVS_PIP_OPTIONS to change these options, PYTHON to choose the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

VENVS_DIR=.venvs
PIP_OPTIONS=(${SETUP_VENVS_PIP_OPTIONS:---retries 0 --timeout 15 --disable-pip-version-check --no-input})

# name and pinned requirements of each venv. The wheels of these versions need Python >= 3.10
# (pydantic-core, httptools and uvloop are binary wheels: the interpreter must match what the index has).
#   gunicorn26        Gunicorn 26 (-k gthread, -k asgi), uvicorn.workers.UvicornWorker on h11, FastAPI, Django
#   uvicorn-standard  what `uvicorn[standard]` brings: httptools and uvloop, so Uvicorn picks them
VENV_NAMES=(gunicorn26 uvicorn-standard)
declare -A VENV_PINS=(
  [gunicorn26]="gunicorn==26.2.0 uvicorn==0.54.0 fastapi==0.142.2 django==5.2.17"
  [uvicorn-standard]="uvicorn==0.54.0 httptools==0.8.0 uvloop==0.23.0 fastapi==0.142.2 gunicorn==26.2.0"
)

fail() {
  echo "setup-venvs: $*" >&2
  exit 1
}

pick_python() {
  if [ -n "${PYTHON:-}" ]; then
    echo "$PYTHON"
  elif [ -x /usr/bin/python3 ]; then
    echo /usr/bin/python3
  else
    command -v python3 || fail "no python3 found: install python3 (>= 3.10) or set PYTHON=/path/to/python3"
  fi
}

PY=$(pick_python)
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || fail "$PY is Python $("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])'), the pinned wheels need >= 3.10: set PYTHON=/path/to/python3.11"

if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
  # Debian splits venv/ensurepip into python3-venv (python3.X-venv)
  [ "$PY" = /usr/bin/python3 ] || fail "$PY cannot create venvs (no ensurepip): install its venv module or set PYTHON"
  echo "setup-venvs: installing python3-venv (Debian's venv module)"
  SUDO=()
  if [ "$(id -u)" != 0 ]; then SUDO=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi

# Prints the pins that the venv's interpreter does not have at exactly that version.
missing_pins() {
  local python=$1; shift
  [ -x "$python" ] || { echo "$@"; return; }
  "$python" - "$@" <<'EOF' 2>/dev/null || echo "$@"
import sys
from importlib import metadata
missing = []
for pin in sys.argv[1:]:
    name, _, version = pin.partition("==")
    try:
        if metadata.version(name) != version:
            missing.append(pin)
    except metadata.PackageNotFoundError:
        missing.append(pin)
print(" ".join(missing))
EOF
}

mkdir -p "$VENVS_DIR"
for name in "${VENV_NAMES[@]}"; do
  venv="$VENVS_DIR/$name"
  read -r -a pins <<<"${VENV_PINS[$name]}"
  missing=$(missing_pins "$venv/bin/python" "${pins[@]}")
  if [ -z "$missing" ]; then
    echo "setup-venvs: $venv has ${pins[*]}"
    continue
  fi
  started=$SECONDS
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup-venvs: creating $venv with $PY ($("$PY" --version 2>&1))"
    "$PY" -m venv "$venv" || fail "cannot create $venv with $PY -m venv"
  fi
  echo "setup-venvs: $venv: pip install $missing"
  log="$venv/pip-install.log"
  # shellcheck disable=SC2086
  if ! "$venv/bin/python" -m pip install "${PIP_OPTIONS[@]}" $missing >"$log" 2>&1; then
    grep -v 'is ignored: it is neither a file nor a directory' "$log" | tail -n 15 >&2
    fail "pip could not install $missing into $venv (full log: $log). pip uses its own configuration" \
      "(\`$venv/bin/python -m pip config list\`): the package index it names must offer these versions" \
      "for $("$PY" --version 2>&1)."
  fi
  still=$(missing_pins "$venv/bin/python" "${pins[@]}")
  [ -z "$still" ] || fail "$venv still lacks $still after pip install (log: $log)"
  echo "setup-venvs: $venv ready in $((SECONDS - started)) s"
done
