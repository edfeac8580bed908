#!/usr/bin/env bash
# Measures issue #3's "Speed and size" targets with the release binary on generated data
# (crates/reports/examples/reports_gen.rs: 1,000,000 reports over 5 years in one tenant, the
# demo categories, boundary and street directory), SQLite first, then PostgreSQL:
#   - GET /open311/v2/requests.json?status=open            ≥ 1,000 req/s, p99 ≤ 50 ms
#   - public map GeoJSON, several viewports (≤ 500 markers)  p99 ≤ 20 ms
#     GET /maengel/karte.geojson?bbox=min_lon,min_lat,max_lon,max_lat (bench/reports/paths.lua)
#   - the nearby-duplicate lookup (service::nearby, crates/reports/examples/nearby_bench.rs)  ≤ 5 ms
#   - report submission with one ~4 MB JPEG (Open311 POST, multipart `media`,
#     bench/reports/submit.lua)   ≥ 50 submissions/s, server RSS ≤ 200 MB during the load
# Server time = wrk's latency at -c1 (one request in flight, loopback); -c$LOW shows queueing on
# the two cores, -c$HIGH the throughput.
#   - after the submissions: how long the background job takes to re-encode the photos held in
#     quarantine (one at a time), that a photo in quarantine is not served, and the RSS meanwhile
# Usage: bench/reports.sh [--duration 15s] [--no-pg] [--no-sqlite] [--keep] [--reports N]
#                         [--reuse DIR] (DIR kept by an earlier --keep run: skips the generator)
#                         [--only-submit] (the submissions alone, without the GET loads)
#                         [--only-map] (the map viewports alone)
# Needs: wrk, curl, psql, python3 with Pillow (the photo); PostgreSQL on 127.0.0.1:5432
# (user postgres, trust) for the PG run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=15s
run_pg=1
run_sqlite=1
keep=0
reuse=""
only_submit=0
only_map=0
n_reports=1000000
LOW=${LOW:-4}
HIGH=${HIGH:-32}
POST_C=${POST_C:-4}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --no-pg) run_pg=0; shift ;;
    --no-sqlite) run_sqlite=0; shift ;;
    --keep) keep=1; shift ;;
    --reports) n_reports=$2; shift 2 ;;
    --reuse) reuse=$2; keep=1; shift 2 ;;
    --only-submit) only_submit=1; shift ;;
    --only-map) only_map=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
python3 -c 'import PIL' 2>/dev/null || { echo "Pillow is missing: pip install pillow" >&2; exit 2; }

BIN=${RATHAUS_BIN:-target/release/rathaus}
GEN=${REPORTS_GEN:-target/release/examples/reports_gen}
NEARBY=${NEARBY_BENCH:-target/release/examples/nearby_bench}
[ -x "$BIN" ] || cargo build --release -p rathaus
[ -x "$GEN" ] && [ -x "$NEARBY" ] ||
  cargo build --release -p rathaus-reports --example reports_gen --example nearby_bench
PG_ADMIN=${RATHAUS_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=rathaus_bench_reports
if [ -n "$reuse" ]; then work=$reuse; else work=$(mktemp -d); fi
pid=""
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  if [ "$run_pg" = 1 ] && [ "$keep" = 0 ]; then
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ "$keep" = 0 ]; then rm -rf "$work"; else echo "kept $work (and database $PG_DB)" >&2; fi
}
trap cleanup EXIT

PHOTO=$work/photo.jpg
[ -s "$PHOTO" ] || python3 bench/reports/photo.py "$PHOTO"

start_server() { # datadir; sets $pid and $url
  local dir=$1 out="$1/stdout"
  RATHAUS_DATA_DIR=$dir RATHAUS_LISTEN=127.0.0.1:0 RATHAUS_LOG=warn "$BIN" serve >"$out" 2>"$dir/stderr" &
  pid=$!
  url=""
  for _ in $(seq 1 3000); do
    url=$(sed -n 's/^URL: //p' "$out" 2>/dev/null | head -1)
    if [ -n "$url" ] && curl -fs -o /dev/null "${url}readyz"; then break; fi
    sleep 0.01
  done
  [ -n "$url" ] || { echo "server did not start" >&2; cat "$dir/stderr" >&2; exit 1; }
}

stop_server() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }

rss() { awk -v k="$1:" '$1==k {print $2}' "/proc/$pid/status"; } # VmRSS / VmHWM in kB

# get_run LABEL CONNS PATH: wrk with latency distribution; the lines kept go to the log
get_run() {
  local label=$1 c=$2 path=$3
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "${url%/}$path")
  [ "$code" = 200 ] || { echo "$path answered $code, not 200" >&2; return 1; }
  local t=2; [ "$c" -lt 2 ] && t=1
  echo "== $label: wrk -t$t -c$c -d$duration --latency ${url%/}$path"
  wrk -t"$t" -c"$c" -d"$duration" --latency -s bench/only200.lua "${url%/}$path" >"$work/wrk-$label.txt"
  grep -E "Requests/sec|Latency  | 50%| 75%| 90%| 99%|p95|Non-2xx|Socket errors|non-200" "$work/wrk-$label.txt" || true
}

# paths_run LABEL CONNS PATHSFILE: like get_run, a random path of the file per request
paths_run() {
  local label=$1 c=$2 paths=$3
  local t=2; [ "$c" -lt 2 ] && t=1
  echo "== $label: wrk -t$t -c$c -d$duration --latency -s bench/reports/paths.lua ($(wc -l <"$paths") paths)"
  PATHS=$paths wrk -t"$t" -c"$c" -d"$duration" --latency -s bench/reports/paths.lua "${url%/}/" >"$work/wrk-$label.txt"
  grep -E "Requests/sec|Latency  | 50%| 75%| 90%| 99%|p95|Non-2xx|Socket errors|non-200" "$work/wrk-$label.txt" || true
}

summary=()
record() { summary+=("$1"); }

figures() { # file → "rps | p50 | p95 | p99 | non-200"
  local f=$1
  printf '%s req/s, p50 %s, p95 %s, p99 %s, non-200 %s' \
    "$(awk '/Requests\/sec/ {print $2}' "$f")" \
    "$(awk '$1=="50%" {print $2}' "$f")" \
    "$(sed -n 's/^p95: //p' "$f")" \
    "$(awk '$1=="99%" {print $2}' "$f")" \
    "$(sed -n 's/^non-200 answers: //p' "$f")"
}

# The map viewports (min_lon,min_lat,max_lon,max_lat): the town centre at street level, the
# main street, a residential quarter, a quiet edge, and the whole town.
VIEWPORTS=(
  "centre:7.1880,51.3990,7.2000,51.4080"
  "main-street:7.1750,51.3960,7.2150,51.4050"
  "quarter:7.2150,51.3900,7.2350,51.4000"
  "edge:7.1450,51.3980,7.1600,51.4060"
  "town:7.1400,51.3700,7.2600,51.4260"
)

bench_backend() { # label datadir dburl
  local label=$1 d=$2 dburl=$3
  echo
  echo "######## $label"
  if [ -s "$d/gen.txt" ] && [ -n "$reuse" ]; then
    echo "(reusing the data in $d)"
  else
    local t0; t0=$(date +%s.%N)
    "$GEN" --database-url "$dburl" --tenant-slug bench --reports "$n_reports" >"$d/gen.txt" 2>"$d/gen.err" ||
      { cat "$d/gen.err" >&2; exit 1; }
    local gen_s; gen_s=$(echo "$(date +%s.%N) - $t0" | bc)
    record "$label | generator | $(printf '%.1f' "$gen_s") s wall ($(sed -n 's/^Generated in //p' "$d/gen.txt") inside)"
  fi
  grep -E "^(Data|Generated)" "$d/gen.txt"
  if [ "$label" = sqlite ]; then
    record "$label | database size | $(du -h "$d/rathaus.db" | cut -f1) ($(stat -c %s "$d/rathaus.db") bytes)"
  else
    record "$label | database size | $(psql "${PG_ADMIN%/*}/$PG_DB" -Atc "select pg_size_pretty(pg_database_size('$PG_DB'))")"
  fi

  if [ "$only_submit" = 0 ] && [ "$only_map" = 0 ]; then
  # The nearby-duplicate lookup, in process (no HTTP), before the server runs.
  echo "== $label: nearby_bench"
  "$NEARBY" --database-url "$dburl" --tenant-slug bench --runs 5000 | tee "$work/nearby-$label.txt"
  record "$label | nearby lookup | $(sed 's/^nearby: //' "$work/nearby-$label.txt")"

  fi
  if [ -n "${dburl##sqlite*}" ]; then export RATHAUS_DATABASE_URL=$dburl; else unset RATHAUS_DATABASE_URL; fi
  start_server "$d"
  local key; key=$(sed -n 's/^ApiKey: //p' "$d/gen.txt")

  if [ "$only_submit" = 0 ] && [ "$only_map" = 0 ]; then
  # Open311 list of open requests: the same URL (the answer cache serves it), then URLs the
  # cache has not seen (start_date before the data: the same list, another cache key).
  local list="/open311/v2/requests.json?status=open"
  echo "open311 list: $(curl -s "${url%/}$list" | grep -o '"service_request_id"' | wc -l) requests, $(curl -s "${url%/}$list" | wc -c) bytes"
  for c in 1 "$LOW" "$HIGH"; do
    get_run "$label-open311-c$c" "$c" "$list" &&
      record "$label | open311 status=open (cached), -c$c | $(figures "$work/wrk-$label-open311-c$c.txt")"
  done
  python3 -c 'import datetime as d
for i in range(20000): print("/open311/v2/requests.json?status=open&start_date=%sT00:00:00Z" % (d.date(1970,1,1)+d.timedelta(days=i)))' \
    | shuf --random-source=<(yes) >"$work/open311-paths.txt"
  for c in 1 "$LOW"; do
    paths_run "$label-open311-cold-c$c" "$c" "$work/open311-paths.txt" &&
      record "$label | open311 status=open (uncached), -c$c | $(figures "$work/wrk-$label-open311-cold-c$c.txt")"
  done

  fi
  if [ "$only_submit" = 0 ]; then
  # Map viewports: each fixed one alone at -c1 (markers, bytes; the answer cache serves it
  # after the first request), all mixed; then panning users: each kind shifted at random
  # (bench/reports/viewports.py); since fb6098b the map widens viewports to a grid, so some hit.
  : >"$work/map-paths.txt"
  : >"$work/map-pan.txt"
  for v in "${VIEWPORTS[@]}"; do
    local name=${v%%:*} bbox=${v#*:}
    local path="/maengel/karte.geojson?bbox=$bbox"
    echo "$path" >>"$work/map-paths.txt"
    local body; body=$(curl -s "${url%/}$path")
    local markers; markers=$(printf '%s' "$body" | grep -o '"Feature"' | wc -l)
    echo "map $name: $markers markers, $(printf '%s' "$body" | wc -c) bytes"
    get_run "$label-map-$name-c1" 1 "$path" &&
      record "$label | map $name ($markers markers, cached), -c1 | $(figures "$work/wrk-$label-map-$name-c1.txt")"
    echo "$v" | python3 bench/reports/viewports.py 3000 >"$work/map-pan-$name.txt"
    cat "$work/map-pan-$name.txt" >>"$work/map-pan.txt"
    paths_run "$label-map-pan-$name-c1" 1 "$work/map-pan-$name.txt" &&
      record "$label | map $name panned (random shifts; the grid answer cache may hit), -c1 | $(figures "$work/wrk-$label-map-pan-$name-c1.txt")"
  done
  paths_run "$label-map-mixed-c$HIGH" "$HIGH" "$work/map-paths.txt" &&
    record "$label | map, fixed viewports mixed (cached), -c$HIGH | $(figures "$work/wrk-$label-map-mixed-c$HIGH.txt")"
  shuf --random-source=<(yes) "$work/map-pan.txt" >"$work/map-pan-mixed.txt"
  paths_run "$label-map-pan-c$LOW" "$LOW" "$work/map-pan-mixed.txt" &&
    record "$label | map, panned viewports mixed (random shifts), -c$LOW | $(figures "$work/wrk-$label-map-pan-c$LOW.txt")"
  echo "server RSS after the GET loads: $(($(rss VmRSS) / 1024)) MB (answer caches full)"
  record "$label | server RSS after the GET loads | $(($(rss VmRSS) / 1024)) MB"

  fi
  if [ "$only_map" = 1 ]; then stop_server; unset RATHAUS_DATABASE_URL; return; fi
  # A fresh server for the submissions, so the RSS figure is theirs and not the caches'.
  stop_server
  start_server "$d"

  # Submissions with the photo; RSS sampled every 100 ms.
  local codes
  if [ "$label" = sqlite ]; then
    codes=$(sqlite3 "$d/rathaus.db" "select group_concat(code) from reports_categories")
  else
    codes=$(psql "$dburl" -Atc "select string_agg(code, ',') from reports_categories")
  fi
  local f="$work/wrk-$label-submit.txt" rss0; rss0=$(rss VmRSS)
  (
    max=0
    while kill -0 "$pid" 2>/dev/null; do
      r=$(awk '$1=="VmRSS:" {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ "${r:-0}" -gt "$max" ] && max=$r && echo "$max" >"$work/rss-max-$label"
      sleep 0.1
    done
  ) &
  sampler=$!
  echo "== $label-submit: wrk -t2 -c$POST_C -d$duration --latency -s bench/reports/submit.lua ($(stat -c %s "$PHOTO") byte JPEG)"
  PHOTO=$PHOTO API_KEY=$key CODES=$codes BOX="51.3990,7.1880,51.4080,7.2000" \
    wrk -t2 -c"$POST_C" -d"$duration" --latency --timeout 30s -s bench/reports/submit.lua \
    "${url%/}/open311/v2/requests.json" >"$f" 2>"$f.err" || true
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true; sampler=""
  grep -E "Requests/sec|Latency  | 50%| 90%| 99%|p95|accepted|Socket errors" "$f" || true
  head -3 "$f.err"
  local rmax hwm
  rmax=$(cat "$work/rss-max-$label" 2>/dev/null || echo 0)
  hwm=$(rss VmHWM)
  echo "server RSS: $((rss0 / 1024)) MB before, max $((rmax / 1024)) MB during, VmHWM $((hwm / 1024)) MB"
  record "$label | submit 4 MB JPEG, -c$POST_C | $(sed -n 's/^accepted: //p' "$f"); latency p50 $(awk '$1=="50%" {print $2}' "$f"), p95 $(sed -n 's/^p95: //p' "$f"), p99 $(awk '$1=="99%" {print $2}' "$f"); RSS $((rss0 / 1024)) MB before, max $((rmax / 1024)) MB during (VmHWM $((hwm / 1024)) MB)"

  # The photos still in quarantine: not served; then re-encoded by the job, one at a time.
  query() {
    if [ "$label" = sqlite ]; then sqlite3 "$d/rathaus.db" "$1"; else psql "$dburl" -Atc "$1"; fi
  }
  local held newest code_before code_after t0 t1 left rdrain=0 r
  held=$(query "select count(*) from reports_photos where quarantine_file_id is not null")
  newest=$(query "select max(id) from reports_photos where quarantine_file_id is not null")
  code_before=$(curl -s -o /dev/null -w '%{http_code}' "${url%/}/maengel/fotos/$newest.jpg")
  t0=$(date +%s.%N)
  left=$held
  while [ "$left" -gt 0 ]; do
    r=$(rss VmRSS); [ "$r" -gt "$rdrain" ] && rdrain=$r
    sleep 0.5
    left=$(query "select count(*) from reports_photos where quarantine_file_id is not null")
  done
  t1=$(date +%s.%N)
  code_after=$(curl -s -o /dev/null -w '%{http_code}' "${url%/}/maengel/fotos/$newest.jpg")
  local drain_s; drain_s=$(echo "$t1 - $t0" | bc)
  echo "re-encoded $held photos in $(printf '%.1f' "$drain_s") s after the load; photo $newest: $code_before in quarantine, $code_after after"
  record "$label | background re-encoding after the load | $held photos in $(printf '%.1f' "$drain_s") s ($(echo "$held / $drain_s" | bc -l | xargs printf '%.1f')/s, one at a time); RSS max $((rdrain / 1024)) MB meanwhile; a photo in quarantine answered $code_before, after re-encoding $code_after"
  stop_server
  unset RATHAUS_DATABASE_URL
}

echo "machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(date -u +%F)"
echo "binary: $BIN; generator: $GEN; $n_reports reports; photo $(stat -c %s "$PHOTO") bytes"

if [ "$run_sqlite" = 1 ]; then
  d="$work/sqlite"; mkdir -p "$d"
  bench_backend sqlite "$d" "sqlite://$d/rathaus.db?mode=rwc"
fi
if [ "$run_pg" = 1 ]; then
  d="$work/pg"; mkdir -p "$d"
  if [ -z "$reuse" ] || [ ! -s "$d/gen.txt" ]; then
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
  fi
  bench_backend postgres "$d" "${PG_ADMIN%/*}/$PG_DB"
fi

echo
echo "======== summary (server time = latency at -c1; -c$LOW adds queueing on the 2 cores; throughput at -c$HIGH)"
for l in "${summary[@]}"; do echo "$l"; done
