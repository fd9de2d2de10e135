#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run calls exactly this) and what a developer
# runs before pushing. It installs and starts what the tests need, then checks
# formatting, lints, docs, every test (unit, integration against real RabbitMQ and a
# real OTLP receiver, doc tests), the Prometheus rules and deploy configs, and the
# performance budgets (the overhead gate).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- What the tests need -------------------------------------------------------------
missing=()
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
# A Python that can read YAML: the one on PATH, else Debian's with python3-yaml.
yaml_python() {
  for py in python3 /usr/bin/python3; do
    "$py" -c 'import yaml' >/dev/null 2>&1 && { echo "$py"; return 0; }
  done
  return 1
}
yaml_python >/dev/null || missing+=(python3-yaml)
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! amqp_up; then
  step "starting RabbitMQ"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do amqp_up && break; sleep 1; done
  amqp_up || { echo "RabbitMQ did not start on 127.0.0.1:5672" >&2; exit 1; }
fi
rabbitmqctl await_startup >/dev/null 2>&1 || true

if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

# --- Checks ----------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

# --- Broker faults and the soak (issue 6) -------------------------------------------------
# Faults go to a dedicated RabbitMQ node (127.0.0.1:5673, scripts/fault-broker.sh); the
# shared broker on 5672 is never restarted. The broker-fault tests in "tests" need it too.
step "fault broker (dedicated RabbitMQ node for the broker-fault tests and the soak)"
scripts/fault-broker.sh start
# --- end of broker faults and the soak ------------------------------------------------------

step "tests (the soak, ${SOAK_SECS:-90}s, among them; its report is printed)"
cargo nextest run --workspace --no-fail-fast

step "doc tests"
cargo test --workspace --doc --quiet

step "fuzzing, bounded (scripts/fuzz.sh; long runs: see fuzz/README.md)"
scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

step "Prometheus rules"
promtool check rules otel-order/prometheus/order-status.rules.yml
promtool test rules otel-order/prometheus/order-status.test.yml
amtool check-config otel-order/prometheus/alertmanager.example.yml

step "deploy configs (examples/deploy)"
promtool check config examples/deploy/prometheus.yml
"$(yaml_python)" - examples/deploy/*.yml examples/deploy/*.yaml examples/deploy/grafana/provisioning/*/*.yml <<'PY'
import sys, yaml
for path in sys.argv[1:]:
    with open(path) as f:
        yaml.safe_load(f)
    print("  valid YAML:", path)
PY

step "overhead gate (every performance budget as a ratio in one process; see benches/gate)"
cargo bench -p ordertrace --bench gate
