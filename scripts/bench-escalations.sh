#!/usr/bin/env bash
# The escalation load benchmark (issue 5): escalations per second and latency percentiles with
# SQLite and with PostgreSQL, on this machine. Results go to bench-results/escalation-load.json.
#
#   bash scripts/bench-escalations.sh            # both databases (PostgreSQL via scripts/postgres.sh)
#   SOTTOVOCE_BENCH_DURATION=20 bash scripts/bench-escalations.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p sottovoce-server --bins
duration=${SOTTOVOCE_BENCH_DURATION:-10}
concurrency=${SOTTOVOCE_BENCH_CONCURRENCY:-32}

target/release/sottovoce-loadgen --label sqlite --duration "$duration" --concurrency "$concurrency"
# Durability: SIGKILL the server 5 s into a load run, restart, read back every 2xx answer.
target/release/sottovoce-loadgen --label sqlite-sigkill --kill-after 5 --concurrency "$concurrency"

pg=${SOTTOVOCE_TEST_PG_URL:-$(bash scripts/postgres.sh)}
# A fresh database per run, so earlier runs do not weigh on this one.
db="sv_bench_$(date +%s)"
psql -q "$pg" -c "CREATE DATABASE $db"
target/release/sottovoce-loadgen --label postgres --db "${pg%/*}/$db" --duration "$duration" --concurrency "$concurrency"
target/release/sottovoce-loadgen --label postgres-sigkill --db "${pg%/*}/$db" --kill-after 5 --concurrency "$concurrency"
psql -q "$pg" -c "DROP DATABASE $db WITH (FORCE)" || true
