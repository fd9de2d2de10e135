#!/usr/bin/env bash
# A dedicated RabbitMQ node for the broker-fault tests and the soak.
#
#   scripts/fault-broker.sh start   # idempotent; returns once the node accepts AMQP
#   scripts/fault-broker.sh stop    # idempotent
#   scripts/fault-broker.sh status
#
# The fault tests close every connection of their broker and restart its app. The main
# broker on 127.0.0.1:5672 is shared with every other test and with whoever else is
# using the machine, so those faults go to this node instead: its own node name, AMQP
# port, distribution port, data and log directories, no plugins, its own config (the
# system's /etc/rabbitmq files would put it on 5672). Only the Erlang cookie is shared,
# so `rabbitmqctl -n ordertrace-faults@localhost ...` works as root.
#
# Tests read the address from AMQP_FAULT_ADDR (default
# amqp://guest:guest@127.0.0.1:5673/%2f) and the node name from AMQP_FAULT_NODE.
set -euo pipefail

NODE=${AMQP_FAULT_NODE:-ordertrace-faults@localhost}
PORT=${AMQP_FAULT_PORT:-5673}
DIST_PORT=${AMQP_FAULT_DIST_PORT:-25673}
DIR=${AMQP_FAULT_DIR:-/tmp/ordertrace-fault-broker}

ctl() { rabbitmqctl -n "$NODE" "$@"; }
amqp_up() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
node_up() { ctl -q ping >/dev/null 2>&1; }

wait_for_amqp() {
  for _ in $(seq 1 90); do
    amqp_up && return 0
    sleep 1
  done
  echo "fault broker $NODE did not accept AMQP on 127.0.0.1:$PORT; see $DIR/log" >&2
  return 1
}

start() {
  if amqp_up; then
    # A test that died mid-fault may have left publishers blocked.
    ctl -q set_vm_memory_high_watermark 0.4 >/dev/null 2>&1 || true
    echo "fault broker $NODE up on 127.0.0.1:$PORT"
    return 0
  fi
  if node_up; then
    # Left with its app stopped (an interrupted restart test): start the app only.
    ctl start_app >/dev/null
  else
    mkdir -p "$DIR/mnesia" "$DIR/log"
    printf '[].\n' >"$DIR/enabled_plugins"
    cat >"$DIR/rabbitmq.conf" <<EOF
listeners.tcp.local = 127.0.0.1:$PORT
loopback_users.guest = true
EOF
    # Read by the server instead of /etc/rabbitmq/rabbitmq-env.conf (which names the
    # main node).
    cat >"$DIR/rabbitmq-env.conf" <<EOF
NODENAME=$NODE
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=$PORT
DIST_PORT=$DIST_PORT
EOF
    # Debian's wrapper runs the server as the rabbitmq user (the shared cookie).
    chown -R rabbitmq:rabbitmq "$DIR" 2>/dev/null || true
    RABBITMQ_NODENAME="$NODE" \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
      RABBITMQ_NODE_PORT="$PORT" \
      RABBITMQ_DIST_PORT="$DIST_PORT" \
      RABBITMQ_MNESIA_BASE="$DIR/mnesia" \
      RABBITMQ_LOG_BASE="$DIR/log" \
      RABBITMQ_PID_FILE="$DIR/pid" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
      RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf" \
      RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
      ERL_EPMD_ADDRESS=127.0.0.1 \
      rabbitmq-server -detached
  fi
  wait_for_amqp
  ctl -q await_startup >/dev/null 2>&1 || true
  echo "fault broker $NODE up on 127.0.0.1:$PORT"
}

stop() {
  if node_up; then
    ctl -q stop >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 30); do
    amqp_up || break
    sleep 1
  done
  echo "fault broker $NODE stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if amqp_up; then echo "up on 127.0.0.1:$PORT"; else echo "down"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
