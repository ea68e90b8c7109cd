#!/usr/bin/env bash
# How far do a run's intervals hold? Runs the same benchmark command RUNS times (default
# 10) back to back and counts, for every row, how many runs' x floor lie inside the
# first run's 95% interval, and how often the ranking's ties and order agree. The goal
# is at least 9 of 10 for every row. Extra arguments go to every run (default: none,
# the default run).
#   scripts/interval-coverage.sh [RUNS] [-- BENCHMARK ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
shift || true
[ "${1:-}" = "--" ] && shift
args=("$@")
out=$(mktemp -d)
cargo build --release -p benchmark >&2
b=target/release/benchmark
for i in $(seq 1 "$runs"); do
  echo "== run $i of $runs: benchmark ${args[*]:-}" >&2
  "$b" ${args[@]+"${args[@]}"} --format json -o "$out/$i.json" 2>/dev/null
done
python3 - "$out" "$runs" <<'PY'
import json, sys
out, runs = sys.argv[1], int(sys.argv[2])
reports = [json.load(open(f"{out}/{i}.json")) for i in range(1, runs + 1)]
first = {r["key"]: r for r in reports[0]["results"]}
print(f"| row | run 1's x floor (95% interval) | runs inside it | x floor over the runs (min..max) | half-width |")
print("|---|---|---|---|---|")
for key, row in first.items():
    if row["protocol"] == "floor":
        continue
    lo, hi, x = row["x_floor_lo"], row["x_floor_hi"], row["x_floor"]
    values = [next(r for r in rep["results"] if r["key"] == key)["x_floor"] for rep in reports]
    inside = sum(1 for v in values if lo is not None and lo <= v <= hi)
    half = (hi - lo) / 2 / x * 100 if lo is not None else float("nan")
    print(f"| {row['label']} | {x:.2f} ({lo:.2f}-{hi:.2f}) | {inside} of {runs} | {min(values):.2f}..{max(values):.2f} | ±{half:.0f}% |")
orders = {}
for rep in reports:
    order = " ".join(("=" if e["tied"] else "") + e["key"] for e in rep["ranking"])
    orders[order] = orders.get(order, 0) + 1
print()
print("rankings seen (= ties with the row before):")
for order, n in sorted(orders.items(), key=lambda kv: -kv[1]):
    print(f"  {n} x {order}")
PY
echo "reports in $out/" >&2
