#!/usr/bin/env bash
# Runs docker-compose.yml for real and checks what a user would: the images build,
# the four servers turn healthy, each lab's self-test passes inside its container,
# `--version` names the commit, a report is written to ./reports, and the benchmark
# run puts every row at or above the floor (the floor's echo on the same network path
# and CPUs as the servers) with each server's CPU read from its Prometheus metrics.
# Ends with `docker compose down`, whatever happened.
#
#   bash scripts/compose-check.sh                 # build, start, check, stop
#   BENCH_ARGS="--iterations 200" bash scripts/compose-check.sh
#
# Needs a Docker engine with Compose v2 (`docker compose`) and BuildKit (buildx);
# Debian's docker-compose 1.29 cannot `up --wait`. Without a reachable registry,
# make the base images first: `sudo bash scripts/base-images.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker compose version >/dev/null 2>&1; then
  echo "needs Compose v2 (\`docker compose\`): $(docker-compose version --short 2>/dev/null \
    | sed 's/^/docker-compose /;s/$/ cannot up --wait/' || echo 'not found')" >&2
  exit 1
fi
for image in debian:bookworm-slim rust:1-slim-bookworm; do
  docker image inspect "$image" >/dev/null 2>&1 || timeout 60 docker pull -q "$image" >/dev/null 2>&1 || {
    echo "no $image here and none can be pulled: run scripts/base-images.sh first" >&2
    exit 1
  }
done

project=commlab-check-$$
compose() { docker compose -p "$project" "$@"; }
trap 'compose --profile benchmark down --volumes --remove-orphans >/dev/null 2>&1 || true' EXIT
export COMMLAB_COMMIT=${COMMLAB_COMMIT:-$(git rev-parse --short=9 HEAD 2>/dev/null || true)}
export COMMLAB_USER="$(id -u):$(id -g)"
mkdir -p reports

echo "== build (commit ${COMMLAB_COMMIT:-unknown})"
start=$(date +%s)
compose --profile benchmark build --quiet
echo "built in $(($(date +%s) - start)) s"
docker image ls --format '{{.Repository}}\t{{.Size}}' | grep '^commlab-' | sort

echo "== up --wait"
start=$(date +%s)
compose up -d --wait --wait-timeout 120
echo "healthy in $(($(date +%s) - start)) s"
compose ps --format '{{.Service}}\t{{.Status}}'

echo "== self-tests inside the containers"
compose exec -T socket-server socket-client --url 127.0.0.1:8080 test
compose exec -T rest-server rest-client --url http://127.0.0.1:5000 test
compose exec -T grpc-server grpc-client --url http://127.0.0.1:50051 test
compose exec -T ws-server ws-client --url ws://127.0.0.1:8765 test

echo "== versions"
for pair in socket-server:socket-server rest-server:rest-server grpc-server:grpc-server ws-server:ws-server; do
  version=$(compose exec -T "${pair%%:*}" "${pair##*:}" --version)
  echo "$version"
  case "$version" in
  *"commit ${COMMLAB_COMMIT:-unknown},"*) ;;
  *) echo "expected commit ${COMMLAB_COMMIT:-unknown}" >&2; exit 1 ;;
  esac
done

echo "== host ports (published on 127.0.0.1, picked by Docker)"
for pair in socket-server:8080 rest-server:5000 grpc-server:50051 ws-server:8765; do
  echo "${pair%%:*}: $(compose port "${pair%%:*}" "${pair##*:}")"
done

echo "== benchmark (${BENCH_ARGS:---iterations 500}), report to ./reports"
# shellcheck disable=SC2086
compose run --rm benchmark ${BENCH_ARGS:---iterations 500} \
  --save-baseline compose-check.json --format markdown --output compose-check.md
cat reports/compose-check.md
python3 - reports/compose-check.json <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
below = [r for r in report["results"]
         if r["key"] != "floor" and r.get("x_floor") is not None and r["x_floor"] < 1.0]
assert report["results"], "no rows"
for r in report["results"]:
    print(f'{r["label"]}: x floor {r.get("x_floor")}, errors {r["errors"]}')
if below:
    sys.exit("below the floor: " + ", ".join(f'{r["label"]} {r["x_floor"]:.2f}' for r in below))
if any(r["errors"] for r in report["results"]):
    sys.exit("a row had errors")
# Each server's CPU, read across the container boundary from its metrics.
unread = [r["label"] for r in report["results"]
          if r["protocol"] != "floor" and not (r.get("server_cpu_from") or "").endswith("/metrics")]
if unread:
    sys.exit("server CPU not read from metrics: " + ", ".join(unread))
print("every row at or above the floor")
PY
