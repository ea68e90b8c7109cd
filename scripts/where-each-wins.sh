#!/usr/bin/env bash
# The runs behind the README's "Where each protocol wins": every figure in that section
# comes from one of these, written as JSON into the directory given (default
# ./where-each-wins). Takes a few minutes; the embedded servers run on the second half
# of the CPUs, the load on the first (as every benchmark run).
set -euo pipefail
out=${1:-where-each-wins}
mkdir -p "$out"
cargo build --release -p benchmark
b=target/release/benchmark
run() { local name=$1; shift; echo "== $name: benchmark $*" >&2; "$b" "$@" --format json -o "$out/$name.json"; }

# (a) gRPC vs REST over HTTP/1.1 vs REST over h2c: 1, 2, 8, 64 clients, one connection
# each and all on one connection.
for c in 1 2 8 64; do
  run "clients-$c-each" --protocols rest,rest-h2,grpc --client lean --concurrency "$c" --duration 2s
  if [ "$c" -gt 1 ]; then
    run "clients-$c-one" --protocols rest,rest-h2,grpc --client lean --concurrency "$c" --connections 1 --duration 2s
  fi
done
# (b) list of 10, 1,000, 10,000 users, both kinds of client.
for n in 10 1000 10000; do
  run "list-$n" --protocols rest,rest-h2,grpc --client both --workload list --list-size "$n" --iterations 100
done
# (c) a fixed rate near each protocol's capacity (about 80% of its 8-client throughput
# in (a) on our machine: scale the rates to yours), corrected vs service time.
run rate-rest --protocols rest --client lean --concurrency 8 --duration 3s --rate 74000
run rate-rest-h2 --protocols rest-h2 --client lean --concurrency 8 --duration 3s --rate 53000
run rate-grpc --protocols grpc --client lean --concurrency 8 --duration 3s --rate 46000
# (d) streaming: time to the first and the last of 100 and 10,000 items.
for n in 100 10000; do
  run "stream-$n" --protocols socket,rest,rest-h2,grpc,ws --client both --workload stream --list-size "$n" --iterations 60
done
# (e) request payloads: JSON (socket, WebSocket) vs protobuf (gRPC Greet).
for p in 100 10KB 1MB; do
  run "payload-$p" --protocols socket,grpc,ws --client both --payload "$p" --iterations 100
done
echo "JSON reports in $out/" >&2
