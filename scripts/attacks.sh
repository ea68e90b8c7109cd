#!/usr/bin/env bash
# The attacks of the labs-hardening issues (see scripts/attacks.py) against fresh release servers on loopback,
# one at a time: prints a Markdown table of each server's RSS before and at its peak,
# and what the attacker and an honest client saw. Used by the README's "Limits and
# failure behaviour". Takes about two minutes; every attack is bounded.
#
#   scripts/attacks.sh                          # this tree's servers
#   BIN_DIR=/path/to/old/release scripts/attacks.sh   # another build's, to compare
#   ONLY=rest-silent,create-flood scripts/attacks.sh
#
# Makes a Python venv in target/python-venv with h2 and grpcio (from PyPI). Raises the
# open-file limit to 8192 for the silent-connection attacks.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
  echo "making $venv..." >&2
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import h2, grpc' 2>/dev/null \
  || "$venv/bin/pip" install -q h2 grpcio >&2
if [ -z "${BIN_DIR:-}" ]; then
  echo "building release binaries..." >&2
  cargo build --release --locked -q -p socket-lab -p rest-lab -p grpc-lab -p ws-lab >&2
  BIN_DIR=target/release
fi
ulimit -n 8192 2>/dev/null || true
args=("$BIN_DIR")
[ -n "${ONLY:-}" ] && args+=(--only "$ONLY")
"$venv/bin/python" scripts/attacks.py "${args[@]}"
