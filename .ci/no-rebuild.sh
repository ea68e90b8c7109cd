#!/usr/bin/env bash
# A second `cargo build` of an unchanged tree must compile nothing. Builds the workspace
# (every target), then again, and fails when the second build finds any crate stale; it
# also fails when lab-kit's build script asks cargo to watch a path that does not exist
# (cargo treats a missing path as changed on every build: rust-lang/cargo#4213).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --workspace --all-targets --locked -q
stale=$(cargo build --workspace --all-targets --locked --message-format=json 2>/dev/null |
  python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and not msg["fresh"]:
        print(msg["target"]["name"])
')
if [ -n "$stale" ]; then
  echo "a second build of an unchanged tree recompiled: $(echo "$stale" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi

missing=0
for output in target/debug/build/lab-kit-*/output; do
  [ -f "$output" ] || continue
  while IFS= read -r path; do
    case "$path" in /*) ;; *) path="lab-kit/$path" ;; esac
    if [ ! -e "$path" ]; then
      echo "lab-kit's build script watches a missing path: $path" >&2
      missing=1
    fi
  done < <(sed -n 's/^cargo:rerun-if-changed=//p' "$output")
done
[ "$missing" -eq 0 ]
echo "second build compiled nothing; every watched path exists"
