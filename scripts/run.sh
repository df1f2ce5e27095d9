#!/usr/bin/env bash
# `make run`: a local Pulse on http://127.0.0.1:5000 with demo data, ready to click through.
# `make demo-reset` calls this with --reset to start again from a fresh demo database.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

reset=0
if [[ ${1:-} == --reset ]]; then
    reset=1
fi

bash scripts/venv.sh

export PULSE_ENV=development
export PULSE_INSTANCE_PATH="$PWD/instance"
# Emailed and printed links point at the local server.
export PULSE_BASE_URL="${PULSE_BASE_URL:-http://127.0.0.1:5000}"
mkdir -p instance
chmod 700 instance

# One persistent key, so sign-ins survive restarts; readable by this user only.
if [[ ! -s instance/secret_key ]]; then
    (
        umask 077
        .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' >instance/secret_key.new
    )
    mv instance/secret_key.new instance/secret_key
    echo "==> generated instance/secret_key"
fi
chmod 600 instance/secret_key
PULSE_SECRET_KEY="$(<instance/secret_key)"
export PULSE_SECRET_KEY

if ((reset)); then
    if [[ -n ${PULSE_DATABASE_URL:-} ]]; then
        echo "error: demo-reset only deletes the local SQLite file; PULSE_DATABASE_URL is set" >&2
        exit 1
    fi
    echo "==> deleting instance/pulse.db"
    rm -f instance/pulse.db instance/pulse.db-wal instance/pulse.db-shm
fi

flask=(.venv/bin/flask --app wsgi)
echo "==> applying database migrations"
"${flask[@]}" db upgrade
"${flask[@]}" pulse demo --if-empty

echo "==> serving Pulse on http://127.0.0.1:5000 (Ctrl+C to stop)"
exec "${flask[@]}" run --host 127.0.0.1 --port 5000
