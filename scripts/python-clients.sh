#!/usr/bin/env bash
# The original lab's Python clients (requests, grpcio) beside this benchmark's standard
# and lean clients, against the same release servers, one client each: the client
# library's share of a request, measured. Used by the README's "Why the ranking differs".
#
#   scripts/python-clients.sh              # 2,000 requests after 200 warm-up
#   REQUESTS=500 scripts/python-clients.sh
#
# Servers on SERVER_CPU (default 1), clients on LOAD_CPU (default 0). Makes a Python
# venv in target/python-venv with grpcio, grpcio-tools and requests (from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-2000}
WARMUP=${WARMUP:-200}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
REST_PORT=${REST_PORT:-15100}
GRPC_PORT=${GRPC_PORT:-15151}

venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
  echo "making $venv (grpcio, grpcio-tools, requests)..." >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q grpcio grpcio-tools requests >&2
fi
stubs=$(mktemp -d)
"$venv/bin/python" -m grpc_tools.protoc -I proto --python_out="$stubs" \
  --grpc_python_out="$stubs" proto/user_service.proto

. scripts/lab-servers.sh
trap 'stop_lab_servers; rm -rf "$stubs"' EXIT

echo "measuring the Python clients..." >&2
py=$(taskset -c "$LOAD_CPU" "$venv/bin/python" scripts/python-clients.py "$rest_url" \
  "127.0.0.1:$GRPC_PORT" "$rest_id" "$grpc_id" "$stubs" "$REQUESTS" "$WARMUP")
echo "measuring this benchmark's clients..." >&2
rust=$(taskset -c "$LOAD_CPU" "$bin/benchmark" --protocols rest,grpc --client both \
  --format json --client-cpus "$LOAD_CPU" --rest-url "$rest_url" --grpc-url "$grpc_url" \
  --iterations "$REQUESTS" --warmup "$WARMUP" --rounds 1 2>/dev/null)

python3 - "$py" "$rust" <<'PY'
import json, sys
py, rust = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = {r["key"]: r for r in rust["results"]}
print("| one client, same servers | REST p50 | REST client CPU | gRPC p50 | gRPC client CPU | ranks first |")
print("|---|---|---|---|---|---|")
def line(name, rest, grpc):
    first = "REST" if rest[0] < grpc[0] else "gRPC"
    print(f"| {name} | {rest[0]:.1f} us | {rest[1]:.1f} us | {grpc[0]:.1f} us | {grpc[1]:.1f} us | {first} |")
line("Python (requests, grpcio)", (py["rest"]["p50_us"], py["rest"]["client_cpu_us"]),
     (py["grpc"]["p50_us"], py["grpc"]["client_cpu_us"]))
for name, rest, grpc in [("Rust standard (reqwest, tonic Channel)", "rest-reqwest", "grpc-channel"),
                         ("Rust lean (hyper, tonic over hyper h2)", "rest-hyper", "grpc-hyper")]:
    r, g = rows[rest], rows[grpc]
    line(name, (r["p50_us"], r["client_cpu_us"]), (g["p50_us"], g["client_cpu_us"]))
PY
