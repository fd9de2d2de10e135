#!/usr/bin/env bash
# Runs the `redact` fuzz target on stable Rust: libFuzzer with coverage
# instrumentation (the flags cargo-fuzz passes), but without AddressSanitizer, which
# needs nightly. With nightly and cargo-fuzz installed, prefer `cargo +nightly fuzz
# run redact`. Usage: ./run-stable.sh [seconds]   (default 120)
set -euo pipefail
cd "$(dirname "$0")"
target="$(rustc -vV | sed -n 's/^host: //p')"
RUSTFLAGS="-Cpasses=sancov-module \
  -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares \
  --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --release --target "$target" --bin redact
mkdir -p corpus/redact
cp ../tests/corpus/*.txt corpus/redact/
"./target/$target/release/redact" corpus/redact \
  -max_total_time="${1:-120}" -max_len=4096 -print_final_stats=1
