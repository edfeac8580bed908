#!/usr/bin/env bash
# Text extraction rate (crates/extract): 200 KB text PDFs and scanned pages (OCR).
# Needs poppler-utils, tesseract-ocr, tesseract-ocr-deu (scripts/test installs them).
# Usage: bench/extract.sh [--pdfs 20] [--scans 5]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run -q -p rathaus-extract --features bench --bin extract-bench -- "$@"
