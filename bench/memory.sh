#!/usr/bin/env bash
# Idle memory of `rathaus serve` (issue 15, item 20): starts the release binary on an empty
# SQLite data dir, with and without `--demo`, waits until it is ready, loads a few pages as a
# newcomer would (start page, Mängelmelder, booking, sign-in, the staff start page), waits
# until the background work is done, and prints VmRSS with its anonymous and file-backed
# parts (/proc/PID/status), RUNS times each, and the medians.
# Usage: bench/memory.sh [RUNS]   (RATHAUS_BIN=… to measure another binary; extra environment
#        such as MALLOC_ARENA_MAX is passed through)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}
BIN=${RATHAUS_BIN:-target/release/rathaus}
[ -x "$BIN" ] || cargo build --release -p rathaus
SETTLE=${SETTLE:-5}

pid=""
work=$(mktemp -d)
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

field() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; }

one() { # demo|plain run → "rss anon file" in kB
  local mode=$1 n=$2 dir="$work/$1-$2" args=(serve)
  mkdir -p "$dir"
  [ "$mode" = demo ] && args+=(--demo)
  RATHAUS_DATA_DIR=$dir RATHAUS_LISTEN=127.0.0.1:0 RATHAUS_LOG=warn "$BIN" "${args[@]}" \
    >"$dir/stdout" 2>"$dir/stderr" &
  pid=$!
  local url=""
  for _ in $(seq 1 6000); do
    url=$(sed -n 's/^URL: //p' "$dir/stdout" 2>/dev/null | head -1)
    if [ -n "$url" ] && curl -fs -o /dev/null "${url}readyz"; then break; fi
    url=""
    sleep 0.01
  done
  [ -n "$url" ] || { echo "server did not start" >&2; cat "$dir/stderr" >&2; exit 1; }
  local base=${url%/}
  for p in / /maengel /maengel/melden /buchung /login; do
    curl -fs -o /dev/null "$base$p" || true
  done
  if [ "$mode" = demo ]; then
    # Sign in as the demo admin (login printed by --demo) and open the staff start page.
    local email pw jar="$dir/cookies" csrf
    email=$(sed -n 's/^E-Mail: //p' "$dir/stdout" | head -1)
    pw=$(sed -n 's/^Passwort: //p' "$dir/stdout" | head -1)
    csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
    curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" \
      --data-urlencode "email=$email" --data-urlencode "password=$pw" "$base/login" || true
    [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$base/staff")" = 200 ] ||
      { echo "sign-in as $email failed" >&2; exit 1; }
    for p in /staff /maengel/verwaltung /buchung/belegung /akten /unterbringung /wissen /programm; do
      curl -s -o /dev/null -b "$jar" "$base$p" || true
    done
  fi
  sleep "$SETTLE"
  echo "$(field "$pid" VmRSS) $(field "$pid" RssAnon) $(field "$pid" RssFile)"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%F); binary: $BIN ($(stat -c %s "$BIN") bytes)"
for mode in plain demo; do
  : >"$work/$mode.txt"
  for i in $(seq 1 "$runs"); do
    r=$(one "$mode" "$i")
    echo "$mode run $i: VmRSS/RssAnon/RssFile kB = $r"
    echo "$r" >>"$work/$mode.txt"
  done
  printf '%s: median VmRSS %.1f MB (anonymous %.1f MB, file-backed %.1f MB)\n' "$mode" \
    "$(cut -d' ' -f1 "$work/$mode.txt" | median | awk '{print $1/1024}')" \
    "$(cut -d' ' -f2 "$work/$mode.txt" | median | awk '{print $1/1024}')" \
    "$(cut -d' ' -f3 "$work/$mode.txt" | median | awk '{print $1/1024}')"
done
