#!/usr/bin/env bash
# The test command: sets everything up on a fresh machine, then runs the whole suite.
#
#   bash scripts/test.sh            # lint, format check, every test (browser tests included)
#   bash scripts/test.sh -k sidebar # arguments go to pytest
#
# Needs Python >= 3.11 with pip and venv. Installs Debian's chromium and nginx when missing (as
# root; otherwise it says what to install and stops), creates .venv and installs the project
# with its test extra (again only when pyproject.toml changes), then runs ruff and pytest.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y chromium nginx
    else
        echo "ERROR: missing ${missing[*]} (need /usr/bin/chromium and /usr/sbin/nginx)." >&2
        echo "       Install them as root:  apt-get update && apt-get install -y chromium nginx" >&2
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi

# Reinstall only when pyproject.toml changed since the last successful install.
stamp="$VENV/.bptt-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing the project and its test tools into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
    echo "$want" >"$stamp"
fi

export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"  # one BLAS thread per process: many small matrices, many sessions
echo "==> ruff check"
"$VENV/bin/python" -m ruff check .
echo "==> ruff format --check"
"$VENV/bin/python" -m ruff format --check .
echo "==> pytest"
exec "$VENV/bin/python" -m pytest "$@"
