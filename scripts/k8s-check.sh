#!/usr/bin/env bash
# The Kubernetes manifests checked offline: the kustomization built by kubectl's own
# kustomize (Debian's kubernetes-client where no kubectl is installed), every resource
# it makes validated strictly against the Kubernetes API schemas by PyPI's
# kubernetes-validate, and the benchmark Job's shard count the same in --shards,
# completions and parallelism. No cluster is needed.
#
#   scripts/k8s-check.sh
#
# Makes a venv in target/python-venv with kubernetes-validate (from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v kubectl >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null
  fi
fi
command -v kubectl >/dev/null 2>&1 || { echo "k8s-check: kubectl is not available" >&2; exit 1; }

venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import kubernetes_validate, yaml' 2>/dev/null \
  || "$venv/bin/pip" install -q kubernetes-validate >&2

mkdir -p target
built=target/kubernetes.yaml
{ kubectl kustomize deploy/kubernetes; echo ---; kubectl kustomize deploy/kubernetes/benchmark; } >"$built"
"$venv/bin/kubernetes-validate" --strict --quiet "$built"
"$venv/bin/python" - "$built" <<'PY'
import re, sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
expected = {"Deployment/" + n for n in ("socket-server", "rest-server", "grpc-server", "ws-server", "floor")}
missing = expected - set(kinds)
assert not missing, f"missing {missing}"
assert all(d["metadata"].get("namespace") == "commlab" for d in docs if d["kind"] != "Namespace")
for d in docs:
    if d["kind"] != "Deployment":
        continue
    container = d["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert probe in container, f"{d['metadata']['name']}: no {probe}"
    assert "limits" in container["resources"] and "requests" in container["resources"]
job = next(d for d in docs if d["kind"] == "Job")
spec = job["spec"]
script = " ".join(spec["template"]["spec"]["containers"][0]["args"])
shards = int(re.search(r"--shards (\d+)", script).group(1))
assert spec["completionMode"] == "Indexed"
assert spec["completions"] == spec["parallelism"] == shards, (
    f"--shards {shards}, completions {spec['completions']}, parallelism {spec['parallelism']}")
print(f"k8s-check: {len(docs)} resources valid ({', '.join(kinds)}); Job of {shards} shards")
PY
