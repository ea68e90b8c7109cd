#!/usr/bin/env bash
# How often does --baseline mark a change when nothing changed? Runs the same benchmark
# command RUNS times (default 5): the first saves a baseline, every later one compares
# against it; then counts the figures marked past the noise. With an honest noise
# estimate, few or none are. Extra arguments go to every run (default: the lean clients,
# 8 clients for 5 s each).
#   scripts/baseline-noise.sh [RUNS] [-- BENCHMARK ARGS...]
set -euo pipefail
runs=${1:-5}
shift || true
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--client lean --concurrency 8 --duration 5s)
out=$(mktemp -d)
cargo build --release -p benchmark
b=target/release/benchmark
echo "== run 1 of $runs (the baseline): benchmark ${args[*]}" >&2
"$b" "${args[@]}" --format json -o "$out/1.json" --save-baseline "$out/base.json"
for i in $(seq 2 "$runs"); do
  echo "== run $i of $runs, against the baseline" >&2
  "$b" "${args[@]}" --format json -o "$out/$i.json" --baseline "$out/base.json"
done
python3 - "$out" "$runs" <<'PY'
import json, sys
out, runs = sys.argv[1], int(sys.argv[2])
marked = total = 0
largest = {}
for i in range(2, runs + 1):
    for c in json.load(open(f"{out}/{i}.json"))["comparison"]["changes"]:
        total += 1
        key = (c["label"], c["figure"])
        largest[key] = max(largest.get(key, 0), abs(c["percent"]))
        if c["beyond_noise"]:
            marked += 1
            print(f"run {i}: {c['label']} {c['figure']} {c['percent']:+.1f}% (noise ±{c['noise_percent']:.1f}%)")
print(f"{marked} of {total} figures marked past the noise over {runs - 1} repeat runs")
print("largest change seen per figure (%):")
for (label, figure), pct in sorted(largest.items()):
    print(f"  {label:18} {figure:10} {pct:5.1f}")
PY
echo "reports in $out/" >&2
