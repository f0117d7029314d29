"""Generate Python code from protos/ into gen/python: the one command behind `make gen`."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import google.api  # the googleapis-common-protos wheel ships the .proto sources next to the modules

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
THIRD_PARTY = ROOT / "third_party"
GEN = ROOT / "gen" / "python"
# The google protos our contracts import, and the ones Envoy needs to render rich errors.
_GOOGLE_PROTOS = [
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/api/httpbody.proto",
    "google/api/field_behavior.proto",
    "google/api/field_info.proto",
    "google/api/resource.proto",
    "google/api/client.proto",
    "google/api/launch_stage.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
    "google/rpc/code.proto",
]


def site_root() -> Path:
    return Path(google.api.__path__[0]).parent.parent


def vendor_google_protos() -> None:
    """Copy the google protos buf needs into third_party/ (git-ignored, rebuilt every time)."""
    src = site_root()
    for rel in _GOOGLE_PROTOS:
        dst = THIRD_PARTY / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dst)


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))


def generate(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    files = proto_files()
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{site_root()}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if gen/python is stale")
    args = parser.parse_args()
    vendor_google_protos()
    if not args.check:
        generate(GEN)
        return 0
    tmp = ROOT / "build" / "gen-check"
    generate(tmp)
    # Bytecode caches appear whenever a process of the host venv imports the generated code
    # (`make up`, a test): they are not generated output, so they never make it stale.
    diff = subprocess.run(
        ["diff", "-r", "-q", "-x", "__pycache__", str(GEN), str(tmp)], capture_output=True, text=True
    )
    if diff.returncode != 0:
        print("gen/python is stale; run `make gen` and commit:\n" + diff.stdout, file=sys.stderr)
        return 1
    print("gen/python is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
