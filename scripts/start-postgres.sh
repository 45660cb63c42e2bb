#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster on loopback (installing the package when missing) and makes a
# role and database for the tests. Idempotent. Prints the connection string on stdout:
#   CHARTROOM_TEST_DATABASE_URL=postgresql://chartroom:chartroom@127.0.0.1:5432/chartroom
# Needs root (apt-get, and running commands as the postgres user).
set -euo pipefail

ROLE="${PG_TEST_ROLE:-chartroom}"
PASSWORD="${PG_TEST_PASSWORD:-chartroom}"
DB="${PG_TEST_DB:-chartroom}"

log() { echo "[start-postgres] $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  log "installing postgresql"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  log "creating cluster $version/main"
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  log "starting cluster $version/main"
  pg_ctlcluster "$version" main start >&2
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')"

as_postgres() { runuser -u postgres -- "$@"; }
for i in $(seq 1 50); do as_postgres psql -p "$port" -qtAc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
if [ "$(as_postgres psql -p "$port" -qtAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  as_postgres psql -p "$port" -qc "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >&2
fi
if [ "$(as_postgres psql -p "$port" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  as_postgres createdb -p "$port" -O "$ROLE" "$DB" >&2
fi
echo "CHARTROOM_TEST_DATABASE_URL=postgresql://$ROLE:$PASSWORD@127.0.0.1:$port/$DB"
