#!/usr/bin/env bash
# Cross-check: this benchmark's raw, lean and standard clients beside oha, wrk and
# h2load, against the same release servers, in one run.
#
#   scripts/crosscheck.sh            # 20,000 requests at c=1, 5 s at c=32
#   REQUESTS=5000 SECONDS_AT_32=3 scripts/crosscheck.sh
#   LINK_REQUESTS=200 (the last row: requests through a 20 ms link)
#
# The lab servers run on SERVER_CPU (default 1), every load generator on LOAD_CPU
# (default 0), one after the other. Installs oha (cargo), wrk and h2load (Debian's
# nghttp2-client) when they are missing. Prints one Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-20000}
SECONDS_AT_32=${SECONDS_AT_32:-5}
LINK_REQUESTS=${LINK_REQUESTS:-200}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
REST_PORT=${REST_PORT:-15000}
GRPC_PORT=${GRPC_PORT:-15051}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need oha; then
  echo "installing oha (cargo install oha --locked)..." >&2
  cargo install oha --locked >&2
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! need wrk || ! need h2load; then
  echo "installing wrk and h2load (apt-get install wrk nghttp2-client)..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nghttp2-client >&2
fi
need python3 || { echo "python3 is needed to read JSON reports" >&2; exit 1; }

. scripts/lab-servers.sh
trap stop_lab_servers EXIT

# GetUser's request as gRPC frames it: no compression, length, then field 1 (id).
body=$(mktemp)
python3 - "$grpc_id" "$body" <<'PY'
import struct, sys
uid = sys.argv[1].encode()
message = b"\x0a" + bytes([len(uid)]) + uid
open(sys.argv[2], "wb").write(b"\x00" + struct.pack(">I", len(message)) + message)
PY

load() { taskset -c "$LOAD_CPU" "$@"; }
bench() {
  load "$bin/benchmark" --client all --format json --client-cpus "$LOAD_CPU" \
    --rest-url "$rest_url" --grpc-url "$grpc_url" \
    --server-pid "rest=$rest_pid" --server-pid "grpc=$grpc_pid" "$@" 2>/dev/null
}
field() { python3 -c "import json,sys; r={x['key']: x for x in json.load(sys.stdin)['results']}; print(r['$1']['$2'])"; }
us() { python3 -c "v=float(\"$1\"); print(f'{v / 1000:.2f} ms' if v >= 10000 else f'{v:.1f} us')"; }
rps() { python3 -c "print(f'{float(\"$1\"):,.0f} req/s')"; }

echo "measuring at c=1..." >&2
b1=$(bench --protocols rest,grpc --iterations "$REQUESTS" --warmup 1000)
oha1=$(load oha -c 1 -n "$REQUESTS" --no-tui --output-format json "$rest_url/api/users/$rest_id" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["latencyPercentiles"]["p50"]*1e6)')
wrk1=$(load wrk -t1 -c1 -d"${SECONDS_AT_32}s" --latency "$rest_url/api/users/$rest_id" \
  | awk '$1=="50%" { v=$2; if (v ~ /us$/) { sub(/us/,"",v); print v } else if (v ~ /ms$/) { sub(/ms/,"",v); print v*1000 } }')
h2_1=$(load h2load -n "$REQUESTS" -c 1 -m 1 -d "$body" -H 'content-type: application/grpc' \
  -H 'te: trailers' "$grpc_url/users.v1.UserService/GetUser" \
  | awk '/time for request:/ { v=$6; if (v ~ /us$/) { sub(/us/,"",v); print v } else { sub(/ms/,"",v); print v*1000 } }')

echo "measuring at c=32..." >&2
b32=$(bench --protocols rest,grpc --concurrency 32 --duration "${SECONDS_AT_32}s" --warmup 100)
oha32=$(load oha -c 32 -z "${SECONDS_AT_32}s" --no-tui --output-format json "$rest_url/api/users/$rest_id" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["requestsPerSec"])')
wrk32=$(load wrk -t1 -c32 -d"${SECONDS_AT_32}s" "$rest_url/api/users/$rest_id" | awk '/Requests\/sec/ {print $2}')
h2_32=$(load h2load -c 32 -m 1 -D "$SECONDS_AT_32" -d "$body" -H 'content-type: application/grpc' \
  -H 'te: trailers' "$grpc_url/users.v1.UserService/GetUser" | awk '/^finished in/ {print $4}')
h2_1x32=$(load h2load -c 1 -m 32 -D "$SECONDS_AT_32" -d "$body" -H 'content-type: application/grpc' \
  -H 'te: trailers' "$grpc_url/users.v1.UserService/GetUser" | awk '/^finished in/ {print $4}')
echo "measuring 32 streams on one connection..." >&2
b1x32=$(bench --protocols rest-h2,grpc --concurrency 32 --connections 1 --duration "${SECONDS_AT_32}s" --warmup 100)
h2_rest_1x32=$(load h2load -c 1 -m 32 -D "$SECONDS_AT_32" "$rest_url/api/users/$rest_id" \
  | awk '/^finished in/ {print $4}')

# The same REST server behind `benchmark relay --link rtt=20ms`: every client crosses
# one emulated link (the relay on the load's CPU: it stands for the network).
echo "measuring through a 20 ms link..." >&2
relay_out=$(mktemp)
"$bin/benchmark" relay --to "127.0.0.1:$REST_PORT" --link rtt=20ms --cpu "$LOAD_CPU" >"$relay_out" &
relay_pid=$!
trap 'kill "$relay_pid" 2>/dev/null || true; stop_lab_servers' EXIT
for _ in $(seq 50); do grep -q "listening on" "$relay_out" && break; sleep 0.1; done
linked_url="http://$(awk '/listening on/ {print $4}' "$relay_out")"
b20=$(load "$bin/benchmark" --client all --format json --client-cpus "$LOAD_CPU" \
  --rest-url "$linked_url" --protocols rest --iterations "$LINK_REQUESTS" --warmup 10 2>/dev/null)
oha20=$(load oha -c 1 -n "$LINK_REQUESTS" --no-tui --output-format json "$linked_url/api/users/$rest_id" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["latencyPercentiles"]["p50"]*1e6)')
wrk20=$(load wrk -t1 -c1 -d"$((LINK_REQUESTS / 50))s" --latency "$linked_url/api/users/$rest_id" \
  | awk '$1=="50%" { v=$2; if (v ~ /us$/) { sub(/us/,"",v); print v } else if (v ~ /ms$/) { sub(/ms/,"",v); print v*1000 } }')
kill "$relay_pid" 2>/dev/null || true
rm -f "$body" "$relay_out"

cat <<TABLE
| same servers (server CPU $SERVER_CPU, load CPU $LOAD_CPU) | benchmark raw | benchmark lean | benchmark standard | oha | wrk | h2load |
|---|---|---|---|---|---|---|
| REST GET /api/users/{id}, c=1, p50 | $(us "$(field rest-raw p50_us <<<"$b1")") | $(us "$(field rest-hyper p50_us <<<"$b1")") | $(us "$(field rest-reqwest p50_us <<<"$b1")") | $(us "$oha1") | $(us "$wrk1") | |
| gRPC GetUser, c=1, p50 (h2load: mean) | $(us "$(field grpc-raw p50_us <<<"$b1")") | $(us "$(field grpc-hyper p50_us <<<"$b1")") | $(us "$(field grpc-channel p50_us <<<"$b1")") | | | $(us "$h2_1") |
| REST, 32 connections, throughput | $(rps "$(field rest-raw throughput_rps <<<"$b32")") | $(rps "$(field rest-hyper throughput_rps <<<"$b32")") | $(rps "$(field rest-reqwest throughput_rps <<<"$b32")") | $(rps "$oha32") | $(rps "$wrk32") | |
| gRPC, 32 connections, throughput | $(rps "$(field grpc-raw throughput_rps <<<"$b32")") | $(rps "$(field grpc-hyper throughput_rps <<<"$b32")") | $(rps "$(field grpc-channel throughput_rps <<<"$b32")") | | | $(rps "$h2_32") |
| gRPC, 1 connection x 32 streams (benchmark: --connections 1; raw keeps one stream a connection) | | $(rps "$(field grpc-hyper throughput_rps <<<"$b1x32")") | $(rps "$(field grpc-channel throughput_rps <<<"$b1x32")") | | | $(rps "$h2_1x32") |
| REST h2c, 1 connection x 32 streams | | $(rps "$(field rest-h2-hyper throughput_rps <<<"$b1x32")") | $(rps "$(field rest-h2-reqwest throughput_rps <<<"$b1x32")") | | | $(rps "$h2_rest_1x32") |
| REST c=1 p50 through \`benchmark relay --link rtt=20ms\` | $(us "$(field rest-raw p50_us <<<"$b20")") | $(us "$(field rest-hyper p50_us <<<"$b20")") | $(us "$(field rest-reqwest p50_us <<<"$b20")") | $(us "$oha20") | $(us "$wrk20") | |
TABLE
