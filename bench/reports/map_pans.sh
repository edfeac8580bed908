#!/usr/bin/env bash
# Re-measures only the map pans on data kept by `bench/reports.sh --keep` (release binary).
set -euo pipefail
cd /work/main
W=${1:?usage: bench/reports/map_pans.sh DIR (kept by bench/reports.sh --keep)}
BIN=target/release/rathaus
run() { # label datadir dburl
  local label=$1 d=$2 dburl=$3
  if [ -n "${dburl##sqlite*}" ]; then export RATHAUS_DATABASE_URL=$dburl; else unset RATHAUS_DATABASE_URL; fi
  RATHAUS_DATA_DIR=$d RATHAUS_LISTEN=127.0.0.1:0 RATHAUS_LOG=warn "$BIN" serve >"$d/stdout2" 2>"$d/stderr2" &
  pid=$!
  url=""
  for _ in $(seq 1 3000); do
    url=$(sed -n 's/^URL: //p' "$d/stdout2" 2>/dev/null | head -1)
    if [ -n "$url" ] && curl -fs -o /dev/null "${url}readyz"; then break; fi
    sleep 0.01
  done
  for v in centre main-street quarter edge town; do
    PATHS=$W/map-pan-$v.txt wrk -t1 -c1 -d8s --latency -s bench/reports/paths.lua "$url" > /tmp/mb-$label-$v.txt
    echo "$label pan $v -c1: $(awk '/Requests\/sec/ {print $2}' /tmp/mb-$label-$v.txt) req/s, p50 $(awk '$1=="50%" {print $2}' /tmp/mb-$label-$v.txt), p99 $(awk '$1=="99%" {print $2}' /tmp/mb-$label-$v.txt), non-200 $(sed -n 's/^non-200 answers: //p' /tmp/mb-$label-$v.txt)"
  done
  PATHS=$W/map-pan-mixed.txt wrk -t2 -c4 -d8s --latency -s bench/reports/paths.lua "$url" > /tmp/mb-$label-mixed.txt
  echo "$label pan mixed -c4: $(awk '/Requests\/sec/ {print $2}' /tmp/mb-$label-mixed.txt) req/s, p50 $(awk '$1=="50%" {print $2}' /tmp/mb-$label-mixed.txt), p99 $(awk '$1=="99%" {print $2}' /tmp/mb-$label-mixed.txt)"
  kill -TERM $pid; wait $pid || true
}
run sqlite $W/sqlite "sqlite://$W/sqlite/rathaus.db?mode=rwc"
run postgres $W/pg "${RATHAUS_BENCH_PG_DB:-postgres://postgres@127.0.0.1:5432/rathaus_bench_reports}"
