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
# (f) off loopback, across an emulated link (--link; see "The network in between").
# New connections at a 50 ms round trip, cleartext and TLS, split in round trips.
run link-new-50ms --protocols socket,rest,grpc,ws --client lean --connection new \
  --link rtt=50ms --sweep tls=off,on --iterations 20 --warmup 2
# 32 clients on one HTTP/2 connection vs a connection each, 20 ms and 1% loss.
run link-loss-each --protocols rest,rest-h2,grpc --client lean --concurrency 32 \
  --duration 5s --warmup 32 --link rtt=20ms,loss=1%
run link-loss-one --protocols rest-h2,grpc --client lean --concurrency 32 --connections 1 \
  --duration 5s --warmup 32 --link rtt=20ms,loss=1%
# A list of 10,000 users over 10 Mbit/s: JSON's bytes against protobuf's.
run link-list-10mbit --protocols rest,grpc --client lean --workload list --list-size 10000 \
  --link rtt=20ms,rate=10mbit --iterations 10 --warmup 2
# Time to the first of 100 streamed items at an 80 ms round trip.
run link-stream-80ms --protocols socket,rest,rest-h2,grpc,ws --client lean --workload stream \
  --list-size 100 --link rtt=80ms --iterations 10 --warmup 2
echo "JSON reports in $out/" >&2
