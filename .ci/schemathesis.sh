#!/usr/bin/env bash
# The REST server against its own OpenAPI document: schemathesis with every check, a
# fixed seed and a bounded number of examples per operation (well under a minute),
# including its stateful phase (create a user, then read, update and delete it through
# the document's links). Fails when the server and its document disagree.
#
# Makes a Python venv in target/ci-venv with a pinned schemathesis from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=target/ci-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    # A bare Debian or Ubuntu image lacks the venv module (or Python itself).
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --locked -q -p rest-lab --bin rest-server
log=$(mktemp)
target/debug/rest-server --addr 127.0.0.1:0 --empty >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
addr=
for _ in $(seq 100); do
  addr=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -oE 'listening addr=[0-9.]+:[0-9]+' | cut -d= -f2 || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "rest-server did not start:" >&2
  cat "$log" >&2
  exit 1
fi

# Run from target/ so hypothesis keeps its example database out of the tree.
cd target
NO_COLOR=1 "../$venv/bin/schemathesis" run "http://$addr/api/openapi.json" \
  --checks all --seed 1 --max-examples 100 --request-timeout 10
