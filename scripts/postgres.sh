#!/usr/bin/env bash
# A private PostgreSQL cluster for the escalation server's tests and benchmark.
#
# Idempotent: installs Debian's PostgreSQL when no server binaries are found, creates a cluster
# in $SOTTOVOCE_PG_DIR (default: sottovoce-postgres in $TMPDIR or the system temp dir) on first use, starts it on a free local
# port when it is not running, and prints its URL on stdout (everything else goes to stderr):
#
#   export SOTTOVOCE_TEST_PG_URL=$(bash scripts/postgres.sh)
#   bash scripts/postgres.sh stop
set -euo pipefail

dir=${SOTTOVOCE_PG_DIR:-${TMPDIR:-/tmp}/sottovoce-postgres}
data=$dir/data
log() { echo "postgres.sh: $*" >&2; }

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bin=$(find_bin)
if [ -z "$bin" ]; then
  if [ "$(id -u)" != 0 ]; then log "PostgreSQL is not installed and I am not root: apt-get install postgresql"; exit 1; fi
  log "installing Debian's postgresql"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
  bin=$(find_bin)
fi

# PostgreSQL refuses to run as root: run its tools as the `postgres` user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-start}" = stop ]; then
  if [ -f "$data/PG_VERSION" ]; then as_pg "$bin/pg_ctl" -D "$data" -m fast stop >&2 || true; fi
  exit 0
fi

if [ ! -f "$data/PG_VERSION" ]; then
  log "creating a cluster in $data"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-instructions >&2
fi

if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  port=${SOTTOVOCE_PG_PORT:-54329}
  # The first port from here on that nobody listens on.
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port" > "$dir/port.tmp" && mv "$dir/port.tmp" "$dir/port"
  log "starting on 127.0.0.1:$port"
  as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >&2
fi

port=$(cat "$dir/port")
echo "postgres://postgres@127.0.0.1:$port/postgres"
