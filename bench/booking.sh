#!/usr/bin/env bash
# Measures issue #4's "Speed and size" targets with the release binary, on generated data
# (crates/booking/examples/booking_gen.rs: 300 resources, 3 seasons, 5,000 weekly series with
# their occurrences, 200,000 single bookings), SQLite first, then PostgreSQL:
#   - occupancy grid, one week, one page of resources   GET /buchung/belegung   (staff session)
#   - free-slot search, 300 resources, one evening      GET /buchung/frei       (staff session)
#   - booking creation with conflict checks             POST /api/v1/booking/reservations (token)
#   - the busiest resource's public ICS feed, one year  GET /belegung/{id}/kalender.ics
# Server time = wrk's latency at -c1 (one request in flight, loopback: the server's time plus
# well under a millisecond); -c$LOW shows queueing on the two cores, -c$HIGH the throughput.
# Creation: -c$POST_C connections, random slots (bench/booking/reserve.lua).
# Usage: bench/booking.sh [--duration 15s] [--no-pg] [--no-sqlite] [--keep]
# Needs: wrk, curl, psql; PostgreSQL on 127.0.0.1:5432 (user postgres, trust) for the PG run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=15s
run_pg=1
run_sqlite=1
keep=0
LOW=${LOW:-4}
HIGH=${HIGH:-32}
POST_C=${POST_C:-4}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --no-pg) run_pg=0; shift ;;
    --no-sqlite) run_sqlite=0; shift ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

BIN=${RATHAUS_BIN:-target/release/rathaus}
GEN=${BOOKING_GEN:-target/release/examples/booking_gen}
[ -x "$BIN" ] || cargo build --release -p rathaus
[ -x "$GEN" ] || cargo build --release -p rathaus-booking --example booking_gen
PG_ADMIN=${RATHAUS_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=rathaus_bench_booking
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  if [ "$run_pg" = 1 ] && [ "$keep" = 0 ]; then
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ "$keep" = 0 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

# The week, the evening and the feed: by default next week and next Tuesday (the free-slot
# search refuses evenings in the past). For runs to compare, set WEEK and EVENING_DATE to a
# school week of the current season and quote them with the figures.
WEEK=${WEEK:-$(date -d 'next tuesday' +%G-W%V)}
EVENING_DATE=${EVENING_DATE:-$(date -d 'next tuesday' +%F)}
EVENING_FROM=${EVENING_FROM:-18:00}
EVENING_TO=${EVENING_TO:-20:00}

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

login() { # datadir → Cookie header value of the generated admin
  local dir=$1 jar="$1/cookies" email pw page csrf
  email=$(sed -n 's/^E-Mail: //p' "$dir/gen.txt")
  pw=$(sed -n 's/^Passwort: //p' "$dir/gen.txt")
  page=$(curl -fs -c "$jar" -b "$jar" "${url}login")
  csrf=$(printf '%s' "$page" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" --data-urlencode "email=$email" \
    --data-urlencode "password=$pw" --data-urlencode "next=" "${url}login"
  sed 's/^#HttpOnly_//' "$jar" | awk '!/^#/ && NF>=7 {printf "%s=%s; ", $6, $7}'
}

# get_run LABEL CONNS PATH [cookie]: wrk with latency distribution; the lines kept go to the log
get_run() {
  local label=$1 c=$2 path=$3 cookie=${4:-} hdr=()
  [ -n "$cookie" ] && hdr=(-H "Cookie: $cookie")
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "${hdr[@]}" "${url%/}$path")
  [ "$code" = 200 ] || { echo "$path answered $code, not 200" >&2; exit 1; }
  local t=2; [ "$c" -lt 2 ] && t=1
  echo "== $label: wrk -t$t -c$c -d$duration --latency ${url%/}$path"
  wrk -t"$t" -c"$c" -d"$duration" --latency -s bench/only200.lua "${hdr[@]}" "${url%/}$path" >"$work/wrk-$label.txt"
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

bench_backend() { # label datadir dburl
  local label=$1 d=$2 dburl=$3
  echo
  echo "######## $label"
  local t0; t0=$(date +%s.%N)
  "$GEN" --database-url "$dburl" --tenant-slug bench --slots-file "$d/slots.txt" >"$d/gen.txt" 2>"$d/gen.err" ||
    { cat "$d/gen.err" >&2; exit 1; }
  local gen_s; gen_s=$(echo "$(date +%s.%N) - $t0" | bc)
  grep -E "^(Data|Busiest|Generated)" "$d/gen.txt"
  record "$label | generator | $(printf '%.1f' "$gen_s") s wall ($(sed -n 's/^Generated in //p' "$d/gen.txt") inside)"
  if [ "$label" = sqlite ]; then
    record "$label | database size | $(du -h "$d/rathaus.db" | cut -f1) ($(stat -c %s "$d/rathaus.db") bytes, after ANALYZE)"
  else
    record "$label | database size | $(psql "${PG_ADMIN%/*}/$PG_DB" -Atc "select pg_size_pretty(pg_database_size('$PG_DB'))")"
  fi
  if [ -n "${dburl##sqlite*}" ]; then export RATHAUS_DATABASE_URL=$dburl; else unset RATHAUS_DATABASE_URL; fi
  start_server "$d"
  local cookie token busiest
  cookie=$(login "$d")
  token=$(sed -n 's/^Token: //p' "$d/gen.txt")
  busiest=$(sed -n 's/^Busiest: \([0-9]*\).*/\1/p' "$d/gen.txt")

  local grid="/buchung/belegung?woche=$WEEK"
  local grid_halls="/buchung/belegung?woche=$WEEK&art=hall"
  local free="/buchung/frei?datum=$EVENING_DATE&von=$EVENING_FROM&bis=$EVENING_TO&art=&kapazitaet="
  local ics="/belegung/$busiest/kalender.ics"
  # How much each answer holds (a grid page with no blocks or an empty search would be cheap).
  local rows blocks freen events
  rows=$(curl -s -H "Cookie: $cookie" "${url%/}$grid" | grep -c '<th scope="row"' || true)
  echo "grid page: $rows resource rows"
  freen=$(curl -s -H "Cookie: $cookie" "${url%/}$free" | grep -c '<th scope="row"' || true)
  echo "free-slot search: $freen free resources listed"
  events=$(curl -s "${url%/}$ics" | grep -c '^BEGIN:VEVENT' || true)
  echo "feed of resource $busiest: $events VEVENTs, $(curl -s "${url%/}$ics" | wc -c) bytes"

  for spec in "grid:$grid" "grid-halls:$grid_halls" "free:$free" "ics:$ics"; do
    local name=${spec%%:*} path=${spec#*:} ck=$cookie
    [ "$name" = ics ] && ck=""
    for c in 1 "$LOW" "$HIGH"; do
      get_run "$label-$name-c$c" "$c" "$path" "$ck"
      record "$label | $name, -c$c | $(figures "$work/wrk-$label-$name-c$c.txt")"
    done
  done

  # Creation 1: random slots within the rules over all resources (busy calendar: most are
  # conflicts). Creation 2: slots free in the data (night hours on equipment): mostly 201.
  local q
  if [ "$label" = sqlite ]; then q=(sqlite3 -separator '|' "$d/rathaus.db"); else q=(psql "$dburl" -Atc); fi
  "${q[@]}" "select id from booking_resources where kind = 'equipment' and id not in (select resource_id from booking_blackouts where resource_id is not null)" >"$d/eq.txt"
  "${q[@]}" "select starts_at, ends_at from booking_blackouts where resource_id is null" >"$d/bl.txt"
  python3 bench/booking/free_slots.py "$d/eq.txt" "$d/bl.txt" >"$d/slots-free.txt"
  for spec in "create:$d/slots.txt" "create-free:$d/slots-free.txt"; do
    local name=${spec%%:*} slots=${spec#*:} f="$work/wrk-$label-${spec%%:*}.txt"
    echo "== $label-$name: wrk -t2 -c$POST_C -d$duration --latency -s bench/booking/reserve.lua ($(wc -l <"$slots") slots)"
    SLOTS="$slots" TOKEN="$token" wrk -t2 -c"$POST_C" -d"$duration" --latency -s bench/booking/reserve.lua \
      "${url%/}/api/v1/booking/reservations" >"$f" 2>"$f.err"
    grep -E "Requests/sec|Latency  | 50%| 90%| 99%|p95|created|Socket errors" "$f" || true
    head -3 "$f.err"
    record "$label | $name, -c$POST_C | 201 created: $(sed -n 's/^201 created: //p' "$f"); latency p50 $(awk '$1=="50%" {print $2}' "$f"), p95 $(sed -n 's/^p95: //p' "$f"), p99 $(awk '$1=="99%" {print $2}' "$f")"
  done
  stop_server
  unset RATHAUS_DATABASE_URL
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(date -u +%F)"
echo "binary: $BIN; generator: $GEN; week $WEEK; evening $EVENING_DATE $EVENING_FROM-$EVENING_TO"

if [ "$run_sqlite" = 1 ]; then
  d="$work/sqlite"; mkdir -p "$d"
  bench_backend sqlite "$d" "sqlite://$d/rathaus.db?mode=rwc"
fi
if [ "$run_pg" = 1 ]; then
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
  d="$work/pg"; mkdir -p "$d"
  bench_backend postgres "$d" "${PG_ADMIN%/*}/$PG_DB"
fi

echo
echo "======== summary (server time = latency at -c1; -c$LOW adds queueing on the 2 cores; throughput at -c$HIGH)"
for l in "${summary[@]}"; do echo "$l"; done
