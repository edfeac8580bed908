#!/usr/bin/env bash
# Measures issue #2's targets on this machine with the release binary:
#   - start to ready on an empty SQLite data dir, idle resident memory
#   - a logged-in staff dashboard under load (wrk on loopback), SQLite and PostgreSQL
#   - release binary size
# Usage: bench/dashboard.sh [--duration 20s] [--connections 32] [--no-pg]
# Needs: wrk (apt-get install wrk), curl; PostgreSQL on 127.0.0.1:5432 for the PG run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=20s
conns=32
run_pg=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --no-pg) run_pg=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

BIN=${RATHAUS_BIN:-target/release/rathaus}
[ -x "$BIN" ] || cargo build --release -p rathaus
PG_ADMIN=${RATHAUS_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

now_ms() { date +%s%3N; }

# start_server DATADIR [extra args...]; sets $pid, $url and $ready_ms (start→ready)
start_server() {
  local dir=$1; shift
  local out="$dir/stdout"
  local t0; t0=$(now_ms)
  RATHAUS_DATA_DIR=$dir RATHAUS_LISTEN=127.0.0.1:0 RATHAUS_LOG=warn "$BIN" serve "$@" >"$out" 2>"$dir/stderr" &
  pid=$!
  url=""
  for _ in $(seq 1 2000); do
    url=$(sed -n 's/^URL: //p' "$out" 2>/dev/null | head -1)
    if [ -n "$url" ] && curl -fs -o /dev/null "${url}readyz"; then break; fi
    sleep 0.002
  done
  [ -n "$url" ] || { echo "server did not start" >&2; cat "$dir/stderr" >&2; exit 1; }
  ready_ms=$(( $(now_ms) - t0 ))
}

stop_server() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# login DATADIR → prints a Cookie header value for a signed-in admin
login() {
  local dir=$1 jar="$1/cookies"
  local email pw page csrf
  email=$(sed -n 's/^E-Mail: //p' "$dir/stdout")
  pw=$(sed -n 's/^Passwort: //p' "$dir/stdout")
  page=$(curl -fs -c "$jar" -b "$jar" "${url}login")
  csrf=$(printf '%s' "$page" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" --data-urlencode "email=$email" \
    --data-urlencode "password=$pw" --data-urlencode "next=" "${url}login"
  # HttpOnly cookies are written as "#HttpOnly_host …" lines.
  sed 's/^#HttpOnly_//' "$jar" | awk '!/^#/ && NF>=7 {printf "%s=%s; ", $6, $7}'

}

load() { # label cookie
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $2" "${url}staff")
  [ "$code" = 200 ] || { echo "dashboard answered $code with the session, not 200" >&2; exit 1; }
  echo "== $1: wrk -t2 -c$conns -d$duration ${url}staff"
  wrk -t2 -c"$conns" -d"$duration" --latency -s bench/only200.lua -H "Cookie: $2" "${url}staff" | tee "$work/wrk-$1.txt" |
    grep -E "Requests/sec|Latency  |  50%|  90%|  99%|Non-2xx|Socket errors|non-200" || true
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(date -u +%F)"
echo "binary: $BIN, $(du -h "$BIN" | cut -f1) ($(stat -c %s "$BIN") bytes)"

# 1. start to ready on an empty SQLite data dir (no demo data), and idle memory.
for i in 1 2 3 4 5; do
  d="$work/empty$i"; mkdir -p "$d"
  start_server "$d"
  sleep 1
  echo "start→ready (empty SQLite) run $i: ${ready_ms} ms, idle RSS $(rss_kb "$pid") kB"
  stop_server
done

# 2. dashboard load on SQLite
d="$work/sqlite"; mkdir -p "$d"
start_server "$d" --demo
cookie=$(login "$d")
load sqlite "$cookie"
echo "RSS after load (SQLite): $(rss_kb "$pid") kB"
stop_server

# 3. dashboard load on PostgreSQL
if [ "$run_pg" = 1 ]; then
  db=rathaus_bench
  base=${PG_ADMIN%/*}
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  d="$work/pg"; mkdir -p "$d"
  RATHAUS_DATABASE_URL="$base/$db" start_server "$d" --demo
  cookie=$(login "$d")
  load postgres "$cookie"
  echo "RSS after load (PostgreSQL): $(rss_kb "$pid") kB"
  stop_server
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
fi
