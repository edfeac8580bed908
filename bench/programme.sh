#!/usr/bin/env bash
# Measures issue #13's "Speed and size" targets with the release build of
# crates/programme/examples/programme_bench.rs (one process, the real app on loopback):
# 2,000 measures over 6 phases and 10 departments, 20 users; moves through the API (p50/p95),
# the same through the service, the board page /programm (time and size, every card on it),
# 50 open boards hearing of one move, the agenda after the moves. SQLite first, then
# PostgreSQL (RATHAUS_BENCH_PG, default postgres://postgres@127.0.0.1:5432/postgres).
# Usage: bench/programme.sh [MEASURES] [MOVES] [--no-pg]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=${1:-2000}
moves=${2:-300}
run_pg=1
[ "${3:-}" = "--no-pg" ] && run_pg=0
BIN=target/release/examples/programme_bench
[ -x "$BIN" ] || cargo build --release -p rathaus-programme --example programme_bench
echo "== SQLite"
env -u RATHAUS_TEST_DATABASE_URL "$BIN" "$n" "$moves"
if [ "$run_pg" = 1 ]; then
  echo "== PostgreSQL"
  RATHAUS_TEST_DATABASE_URL=${RATHAUS_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres} "$BIN" "$n" "$moves"
fi
