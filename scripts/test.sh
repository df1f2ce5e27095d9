#!/usr/bin/env bash
# `make test`: install what the suite needs (Chromium, PostgreSQL, the venv), start PostgreSQL,
# create a fresh test database, then run ruff, mypy and pytest. Safe to run again and again: each
# step is skipped when it is already done. Extra arguments are passed on to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS=0
CHROMIUM=/usr/bin/chromium
TEST_DB=${PULSE_TEST_DB:-pulse_test} # override to run two suites side by side
me=$(id -un)

log() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}
is_root() { [[ $(id -u) -eq 0 ]]; }
can_sudo() { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }

# Run a command as the postgres superuser (the owner of the cluster).
as_postgres() {
    if is_root; then
        if command -v runuser >/dev/null; then
            runuser -u postgres -- "$@"
        else
            su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
        fi
    elif can_sudo; then
        sudo -n -u postgres -- "$@"
    else
        return 99
    fi
}

# The PostgreSQL major version to use: 15 when present (what production targets), else the newest.
pg_version() {
    if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then
        echo 15
        return
    fi
    local bin
    for bin in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x $bin ]] && basename "$(dirname "$(dirname "$bin")")"
    done | sort -n | tail -n 1
}

# --- 1. System packages -------------------------------------------------------------------------
missing=()
[[ -x $CHROMIUM ]] || missing+=(chromium)
if [[ -z $(pg_version) ]] || ! command -v pg_ctlcluster >/dev/null || ! command -v psql >/dev/null; then
    missing+=(postgresql)
fi
if [[ ! -x .venv/bin/python ]] && ! "${PYTHON:-python3}" -c 'import ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi
if ((${#missing[@]})); then
    if ! is_root; then
        die "make test needs these Debian packages: ${missing[*]}
  install them as root, then run make test again:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
    log "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null
    apt-get install -y -q -o Dpkg::Use-Pty=0 "${missing[@]}" </dev/null
fi

# --- 2. Python environment ----------------------------------------------------------------------
bash scripts/venv.sh

# --- 3. PostgreSQL --------------------------------------------------------------------------------
PG_VERSION=$(pg_version)
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin

cluster=$(pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" '$1 == v && $2 == "main"')
if [[ -z $cluster ]]; then
    log "creating PostgreSQL $PG_VERSION cluster main"
    if is_root; then
        pg_createcluster "$PG_VERSION" main
    elif can_sudo; then
        sudo -n pg_createcluster "$PG_VERSION" main
    else
        die "PostgreSQL $PG_VERSION has no cluster; as root run: pg_createcluster $PG_VERSION main"
    fi
    cluster=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main"')
fi
port=$(awk '{print $3}' <<<"$cluster")
status=$(awk '{print $4}' <<<"$cluster")
export PGPORT=$port # libpq (psql and psycopg) then finds the right socket

if [[ $status != online* ]]; then
    log "starting PostgreSQL $PG_VERSION (cluster main, port $port)"
    if is_root; then
        pg_ctlcluster "$PG_VERSION" main start
    elif can_sudo; then
        sudo -n -u postgres pg_ctlcluster "$PG_VERSION" main start
    else
        die "PostgreSQL is not running; as root run: pg_ctlcluster $PG_VERSION main start"
    fi
fi
for _ in $(seq 60); do
    "$PG_BIN/pg_isready" -q -p "$port" && break
    sleep 0.5
done
"$PG_BIN/pg_isready" -q -p "$port" || die "PostgreSQL did not become ready on port $port"

# A superuser role named after this account, so the tests connect over the socket with peer auth.
if ! psql -X -q -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    log "creating PostgreSQL superuser role $me"
    rc=0
    as_postgres createuser --superuser "$me" || rc=$?
    if ((rc == 99)); then
        die "PostgreSQL has no role for $me and sudo is not available; as root run:
    su postgres -c \"createuser --superuser $me\""
    elif ((rc != 0)); then
        die "could not create the PostgreSQL role $me"
    fi
fi

log "creating a fresh database $TEST_DB"
dropdb --if-exists --force "$TEST_DB"
createdb "$TEST_DB"
export PULSE_TEST_POSTGRES_URL="postgresql+psycopg:///$TEST_DB"
export PULSE_REQUIRE_POSTGRES=1

# --- 4. Lint, types, tests ------------------------------------------------------------------------
rm -rf test-artifacts # screenshots of browser tests that fail in this run land here
failed=()
step() {
    log "$*"
    "$@" || failed+=("$*")
}
step .venv/bin/ruff check .
step .venv/bin/ruff format --check .
step .venv/bin/mypy
log "pytest"
step .venv/bin/pytest -p no:cacheprovider -q --durations=15 "$@"

if ((${#failed[@]})); then
    printf 'make test failed after %ss in: %s\n' "$SECONDS" "$(IFS=';'; echo "${failed[*]}")" >&2
    exit 1
fi
printf 'make test: lint, types and tests all green in %ss\n' "$SECONDS"
