#!/usr/bin/env bash
# Knowledge benchmark (issue 14): 20,000 pages × 10 versions on SQLite and, when
# RATHAUS_BENCH_PG is set (e.g. postgres://postgres@127.0.0.1:5432/knowledge_bench), PostgreSQL;
# page views and 50 KB diffs through the services. Figures go into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release -p rathaus-knowledge --example knowledge-bench
BIN=${CARGO_TARGET_DIR:-target}/release/examples/knowledge-bench
echo "--- SQLite"
"$BIN" --url "sqlite:///tmp/knowledge-bench.db?mode=rwc" "$@"
if [ -n "${RATHAUS_BENCH_PG:-}" ]; then
  echo "--- PostgreSQL"
  "$BIN" --url "$RATHAUS_BENCH_PG" "$@"
fi
