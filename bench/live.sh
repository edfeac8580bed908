#!/usr/bin/env bash
# Live updates under load (issue 16): `rathaus serve --demo` (release binary, SQLite, or
# PostgreSQL with --pg), signed in as the demo admin; bench/live.py opens N server-sent-event
# subscriptions to the programme board and moves a card ROUNDS times, and prints the delivery
# latency (move sent → event read by each subscriber).
# Usage: bench/live.sh [--subscribers 500] [--rounds 20] [--pg]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${RATHAUS_BIN:-target/release/rathaus}
[ -x "$BIN" ] || cargo build --release -p rathaus
subs=500 rounds=20 pg=0
while [ $# -gt 0 ]; do
  case "$1" in
    --subscribers) subs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --pg) pg=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
PG_ADMIN=${RATHAUS_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=rathaus_bench_live
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  [ "$pg" = 1 ] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$pg" = 1 ]; then
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
  export RATHAUS_DATABASE_URL="${PG_ADMIN%/*}/$PG_DB"
fi
ulimit -n 4096
RATHAUS_DATA_DIR=$work RATHAUS_LISTEN=127.0.0.1:0 RATHAUS_LOG=warn "$BIN" serve --demo >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=""
for _ in $(seq 1 6000); do
  url=$(sed -n 's/^URL: //p' "$work/stdout" 2>/dev/null | head -1)
  if [ -n "$url" ] && curl -fs -o /dev/null "${url}readyz"; then break; fi
  url=""; sleep 0.01
done
[ -n "$url" ] || { echo "server did not start" >&2; cat "$work/stderr" >&2; exit 1; }
base=${url%/}
email=$(sed -n 's/^E-Mail: //p' "$work/stdout" | head -1)
pw=$(sed -n 's/^Passwort: //p' "$work/stdout" | head -1)
jar=$work/cookies
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" \
  --data-urlencode "email=$email" --data-urlencode "password=$pw" "$base/login"
csrf=$(curl -s -b "$jar" "$base/programm" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
cookie=$(awk '{sub(/^#HttpOnly_/, "")} !/^#/ && NF >= 7 {printf "%s%s=%s", sep, $6, $7; sep="; "}' "$jar")
echo "machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(uname -m), $(date -u +%F); binary: $BIN; backend: $([ "$pg" = 1 ] && echo PostgreSQL || echo SQLite)"
python3 bench/live.py "$base" "$cookie" "$csrf" --subscribers "$subs" --rounds "$rounds"
echo "server RSS with the subscribers gone: $(awk '/VmRSS/ {print $2}' "/proc/$pid/status") kB"
