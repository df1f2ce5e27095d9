#!/usr/bin/env bash
# Create .venv and install Pulse into it (editable, with test tools) unless it is already up to
# date. "Up to date" means the stamp holds a hash of pyproject.toml's dependency and packaging
# sections and the Python version: file times are not used, so a fresh clone decides correctly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
STAMP=.venv/.pulse-install-stamp

if ! command -v "$PYTHON" >/dev/null; then
    echo "error: $PYTHON not found; Pulse needs Python 3.11 or newer" >&2
    exit 1
fi

if [[ -e .venv ]] && ! .venv/bin/python -c '' 2>/dev/null; then
    echo "error: .venv exists but its Python does not run (made by another user or Python?);" >&2
    echo "       delete .venv and run this again" >&2
    exit 1
fi

if [[ ! -e .venv ]]; then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "error: Pulse needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
        exit 1
    fi
    echo "==> creating .venv with $("$PYTHON" --version 2>&1)"
    if ! "$PYTHON" -m venv .venv; then
        rm -rf .venv
        echo "error: could not create a virtual environment; on Debian install python3-venv" >&2
        exit 1
    fi
fi

# Only what decides the installed packages counts (not, say, the mypy file list).
want=$(.venv/bin/python - <<'PY'
import hashlib, json, sys, tomllib
with open("pyproject.toml", "rb") as f:
    data = tomllib.load(f)
project = data.get("project", {})
relevant = [
    data.get("build-system"),
    project.get("dependencies"),
    project.get("optional-dependencies"),
    data.get("tool", {}).get("setuptools"),
]
digest = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()
print(digest, sys.version.split()[0])
PY
)
if [[ -f $STAMP && "$(<"$STAMP")" == "$want" ]]; then
    exit 0
fi

echo "==> installing Pulse and its test tools into .venv (pip install -e .[test])"
rm -f "$STAMP"
.venv/bin/python -m pip install --disable-pip-version-check --quiet -e ".[test]"
printf '%s' "$want" >"$STAMP"
