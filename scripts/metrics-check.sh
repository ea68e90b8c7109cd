#!/usr/bin/env bash
# Every lab server's Prometheus metrics read by a parser this project did not write:
# Python's prometheus_client (the Prometheus project's own) parses what each server
# serves after its lab's self-test has run against it (REST and WebSocket at /metrics on
# their port, gRPC and the socket lab on --metrics-addr), and checks the families and
# labels the README promises.
#
#   scripts/metrics-check.sh                 # the debug build
#   PROFILE=release scripts/metrics-check.sh
#
# Makes a venv in target/python-venv with prometheus-client (from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-debug}
BASE_PORT=${METRICS_CHECK_PORT:-18800}
flag=$([ "$PROFILE" = release ] && echo --release || true)
cargo build $flag --locked -q -p socket-lab -p rest-lab -p grpc-lab -p ws-lab
bin="target/$PROFILE"

venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import prometheus_client' 2>/dev/null \
  || "$venv/bin/pip" install -q 'prometheus-client>=0.20' >&2

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
p=$BASE_PORT
"$bin/socket-server" --addr "127.0.0.1:$p" --metrics-addr "127.0.0.1:$((p + 1))" 2>/dev/null & pids+=($!)
"$bin/rest-server" --addr "127.0.0.1:$((p + 2))" --metrics 2>/dev/null & pids+=($!)
"$bin/grpc-server" --addr "127.0.0.1:$((p + 3))" --metrics-addr "127.0.0.1:$((p + 4))" 2>/dev/null & pids+=($!)
"$bin/ws-server" --addr "127.0.0.1:$((p + 5))" --metrics 2>/dev/null & pids+=($!)

declare -A endpoint=(
  [socket]="http://127.0.0.1:$((p + 1))/metrics"
  [rest]="http://127.0.0.1:$((p + 2))/metrics"
  [grpc]="http://127.0.0.1:$((p + 4))/metrics"
  [ws]="http://127.0.0.1:$((p + 5))/metrics"
)
for lab in socket rest grpc ws; do
  for _ in $(seq 100); do curl -sf "${endpoint[$lab]}" >/dev/null && break; sleep 0.1; done
done

"$bin/socket-client" --url "127.0.0.1:$p" test >/dev/null
"$bin/rest-client" --url "http://127.0.0.1:$((p + 2))" test >/dev/null
"$bin/grpc-client" --url "http://127.0.0.1:$((p + 3))" test >/dev/null
"$bin/ws-client" --url "ws://127.0.0.1:$((p + 5))" test >/dev/null

status=0
for lab in socket rest grpc ws; do
  page=$(curl -sf -D /dev/stderr "${endpoint[$lab]}" 2>"target/metrics-$lab.headers")
  grep -qi '^content-type: text/plain; version=0.0.4' "target/metrics-$lab.headers" \
    || { echo "metrics-check: $lab: not the text format 0.0.4" >&2; status=1; }
  if ! "$venv/bin/python" - "$lab" "$page" <<'PY'; then status=1; fi
import sys
from prometheus_client.parser import text_string_to_metric_families

lab, page = sys.argv[1], sys.argv[2]
families = {f.name: f for f in text_string_to_metric_families(page)}
def need(name, kind):
    f = families.get(name)
    assert f is not None, f"{lab}: no {name} in {sorted(families)}"
    assert f.type == kind, f"{lab}: {name} is a {f.type}, not a {kind}"
    return f
requests = need("commlab_requests", "counter")
latency = need("commlab_request_duration_seconds", "histogram")
need("commlab_requests_in_flight", "gauge")
need("commlab_open_connections", "gauge")
cpu = need("process_cpu_seconds", "counter")
memory = need("process_resident_memory_bytes", "gauge")
answered = sum(s.value for s in requests.samples if s.name.endswith("_total"))
assert answered > 0, f"{lab}: no requests counted after its self-test"
for s in requests.samples:
    assert set(s.labels) == {"route", "method", "status"}, s
routes = {s.labels["route"] for s in requests.samples}
statuses = {s.labels["status"] for s in requests.samples}
expected = {
    "socket": ({"echo"}, {"ok", "error"}),
    "rest": ({"/api/users", "/api/users/{id}"}, {"200", "201", "404"}),
    "grpc": ({"/users.v1.UserService/GetUser"}, {"0", "5"}),
    "ws": ({"/ws/echo"}, {"101"}),
}[lab]
assert expected[0] <= routes, f"{lab}: routes {routes}"
assert expected[1] <= statuses, f"{lab}: statuses {statuses}"
buckets = [s for s in latency.samples if s.name.endswith("_bucket")]
assert buckets and any(s.labels["le"] == "+Inf" for s in buckets), f"{lab}: no +Inf bucket"
assert cpu.samples[0].value > 0 and memory.samples[0].value > 1e6
print(f"{lab}: {len(families)} families, {answered:.0f} requests over routes "
      f"{sorted(routes)[:3]}..., statuses {sorted(statuses)}; "
      f"cpu {cpu.samples[0].value:.3f} s, rss {memory.samples[0].value / 2**20:.1f} MiB")
PY
done
rm -f target/metrics-*.headers
exit "$status"
