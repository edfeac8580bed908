#!/usr/bin/env bash
# E-Akte upload throughput (issue 11): 1,000 text PDFs of about 200 KB through the JSON API
# (POST /api/v1/records/files/{id}/documents, bearer token, 4 clients) into one file of the
# demo tenant, then the time until every one is found by a word inside it (text extraction
# with pdftotext, then the search index), with the release binary, SQLite first, then
# PostgreSQL. The client is bench/records/upload.py (standard library only).
# Usage: bench/records-upload.sh [--docs 1000] [--concurrency 4] [--no-pg] [--no-sqlite]
# Needs: curl, python3, poppler-utils (pdftotext); PostgreSQL on 127.0.0.1:5432 for the PG run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

docs=1000
conc=4
run_pg=1
run_sqlite=1
while [ $# -gt 0 ]; do
  case "$1" in
    --docs) docs=$2; shift 2 ;;
    --concurrency) conc=$2; shift 2 ;;
    --no-pg) run_pg=0; shift ;;
    --no-sqlite) run_sqlite=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v pdftotext >/dev/null || { echo "pdftotext is missing: apt-get install -y poppler-utils" >&2; exit 2; }

BIN=${RATHAUS_BIN:-target/release/rathaus}
[ -x "$BIN" ] || cargo build --release -p rathaus
PG_ADMIN=${RATHAUS_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=rathaus_bench_records_upload
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  [ "$run_pg" = 1 ] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

run() { # label database-url-or-empty
  local label=$1 dburl=$2 d="$work/$1"
  mkdir -p "$d"
  if [ -n "$dburl" ]; then export RATHAUS_DATABASE_URL=$dburl; else unset RATHAUS_DATABASE_URL; fi
  RATHAUS_DATA_DIR=$d RATHAUS_LISTEN=127.0.0.1:0 RATHAUS_LOG=warn RATHAUS_FILES_MAX_UPLOAD_MB=25 \
    "$BIN" serve --demo >"$d/stdout" 2>"$d/stderr" &
  pid=$!
  local url=""
  for _ in $(seq 1 6000); do
    url=$(sed -n 's/^URL: //p' "$d/stdout" 2>/dev/null | head -1)
    if [ -n "$url" ] && grep -q '^Passwort:' "$d/stdout" && curl -fs -o /dev/null "${url}readyz"; then break; fi
    sleep 0.01
  done
  [ -n "$url" ] || { echo "server did not start" >&2; cat "$d/stderr" >&2; exit 1; }
  local email token fid
  email=$(sed -n 's/^E-Mail: //p' "$d/stdout")
  token=$(RATHAUS_DATA_DIR=$d "$BIN" admin create-token --email "$email" --name bench | tail -1)
  fid=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"plan_code":"022.31","title":"Sammelakte Nachweise (Benchmark)","kind":"general"}' \
    "${url}api/v1/records/files" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  echo "== $label: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(date -u +%FT%TZ), $(git rev-parse --short HEAD)"
  python3 bench/records/upload.py "$url" "$token" "$fid" --docs "$docs" --concurrency "$conc" --pid "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

[ "$run_sqlite" = 1 ] && run sqlite ""
if [ "$run_pg" = 1 ]; then
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
  psql "$PG_ADMIN" -qc "CREATE DATABASE $PG_DB" >/dev/null
  run postgresql "${PG_ADMIN%/*}/$PG_DB"
fi
