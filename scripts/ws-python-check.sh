#!/usr/bin/env bash
# The WebSocket lab checked by a client this project did not write: Python's
# `websockets` runs the wire contract (echo, errors, 1009, chat join/leave/push, 400)
# against a release ws-server, then times echo round trips and chat pushes.
#
#   scripts/ws-python-check.sh            # 2,000 echo requests, 1,000 pushes
#   REQUESTS=500 scripts/ws-python-check.sh
#
# Server on SERVER_CPU (default 1), Python on LOAD_CPU (default 0). Makes a venv in
# target/python-venv with websockets (from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-2000}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
PORT=${WS_PORT:-18765}

venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import websockets' 2>/dev/null || "$venv/bin/pip" install -q 'websockets>=14' >&2

cargo build --release --locked -q -p ws-lab --bin ws-server --bin ws-client
taskset -c "$SERVER_CPU" target/release/ws-server --addr "127.0.0.1:$PORT" 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  target/release/ws-client --url "ws://127.0.0.1:$PORT" check >/dev/null 2>&1 && break
  sleep 0.1
done
taskset -c "$LOAD_CPU" "$venv/bin/python" scripts/ws-python-check.py "ws://127.0.0.1:$PORT" "$REQUESTS"
