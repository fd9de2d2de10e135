#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of what reads input from outside the process:
# the HTTP header extractors behind the server layer, the AMQP header extractors
# behind the consumer, and the redactor. The targets live in fuzz/ (a cargo-fuzz
# project); this script builds them on stable Rust with the coverage flags cargo-fuzz
# passes, minus AddressSanitizer (nightly only), and runs each for a bounded time.
#
#   scripts/fuzz.sh [seconds per target] [target...]      default: 20 s, every target
#
# Long runs (with AddressSanitizer), from fuzz/:
#   cargo install cargo-fuzz && cargo +nightly fuzz run <target> -- -max_total_time=3600
# A crash leaves its input in fuzz/artifacts/<target>/; copy it into
# fuzz/regressions/<target>/ and it is replayed by `cargo test --test fuzz_regressions`.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-20}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(http_request amqp_delivery redact)

host="$(rustc -vV | sed -n 's/^host: //p')"
# Its own target dir: instrumented builds must not evict the workspace's.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target}"
RUSTFLAGS="-Cpasses=sancov-module \
  -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares \
  --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --quiet --release --locked --target "$host" $(printf -- '--bin %s ' "${targets[@]}")

for target in "${targets[@]}"; do
  corpus="corpus/$target"
  mkdir -p "$corpus" "artifacts/$target"
  # Seeds and past crashes start every run; the working corpus grows across runs.
  cp -n seeds/"$target"/* regressions/"$target"/* "$corpus"/ 2>/dev/null || true
  # The redactor starts from its detection corpus: real formats of every detector.
  [[ $target == redact ]] && cp -n ../otel-redact/tests/corpus/*.txt "$corpus"/
  dict=()
  [[ -f "dict/$target.dict" ]] && dict=("-dict=dict/$target.dict")
  log="artifacts/$target/last-run.log"
  echo "fuzzing $target for ${seconds}s"
  if ! "$CARGO_TARGET_DIR/$host/release/$target" "$corpus" "${dict[@]}" \
    -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|DONE' "$log" | sed 's/^/  /'
done
