#!/usr/bin/env bash
# `make image-smoke`: after `make image`, run checks inside the built gx-mesh image (buildah run,
# chroot isolation, as the image's own user 10001), with no database, Redis or peer:
#   - every module a manifest starts with `python -m` resolves and its package imports;
#   - `gx --help`, `gx db upgrade --help` (the migrate Job) and `envoy --version` answer;
#   - the edge's init container renders its Envoy config from the baked descriptor set, and the
#     image's Envoy accepts that config (`--mode validate`);
#   - pg_dump for the backup CronJob is found and runs;
#   - the code is read-only to the process.
# The services' health over gRPC needs the stack, which the e2e tests already cover outside images.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=gx-mesh
TAG=${GX_IMAGE_TAG:-dev}
WORK=build/image
BUILDAH=(buildah --root "$PWD/$WORK/storage" --runroot "$PWD/$WORK/run" --storage-driver vfs)

modules=$(.venv/bin/python - <<'PY'
import pathlib, yaml
found = set()
for path in pathlib.Path("manifests").rglob("*.yaml"):
    for doc in yaml.safe_load_all(path.read_text()):
        if not isinstance(doc, dict) or doc.get("kind") not in ("Deployment", "StatefulSet", "Job", "CronJob"):
            continue
        spec = doc.get("spec", {})
        spec = spec.get("jobTemplate", {}).get("spec", {}) if doc["kind"] == "CronJob" else spec
        pod = spec.get("template", {}).get("spec") or {}
        for c in [*pod.get("initContainers", []), *pod.get("containers", [])]:
            if c.get("command", [])[:2] == ["python", "-m"]:
                found.add(c["command"][2])
print(" ".join(sorted(found)))
PY
)

ctr=$("${BUILDAH[@]}" from --pull=false "localhost/$NAME:$TAG")
trap '"${BUILDAH[@]}" rm "$ctr" >/dev/null' EXIT
run() { "${BUILDAH[@]}" run --isolation chroot "$ctr" -- "$@"; }

echo "smoke: user $(run id -u):$(run id -g)"
[ "$(run id -u)" = 10001 ]
# The module `python -m` would run (a package's __main__) is imported: each guards its main with
# `if __name__ == "__main__"`, so this loads every import it needs and starts nothing.
resolve='import importlib, importlib.util, sys
m = sys.argv[1]
spec = importlib.util.find_spec(m)
assert spec is not None, m
importlib.import_module(m + ".__main__" if spec.submodule_search_locations is not None else m)
print("smoke: python -m", m, "imports")'
for m in $modules; do
  run python -c "$resolve" "$m"
done
run gx --help >/dev/null && echo "smoke: gx --help"
run gx db upgrade --help >/dev/null && echo "smoke: gx db upgrade --help"
run envoy --version
run sh -c 'python -m manifests.edge_config --out /tmp/envoy.json && envoy --mode validate -c /tmp/envoy.json --log-level error'
run python -c "import subprocess, sys, os; from manifests.backup import pg_dump_binary; \
b = pg_dump_binary(os.environ); print('smoke:', subprocess.run([b, '--version'], capture_output=True, text=True, check=True).stdout.strip())"
if run sh -c 'touch /app/x' 2>/dev/null; then echo "smoke: /app is writable by the process" >&2; exit 1; fi
echo "smoke: /app is read-only to uid 10001"
echo "smoke: ok"
