"""Write protos/api-baseline.json: the contracts as released, which `make lint` holds every change to.

`buf breaking` against `main` checks nothing on main itself (the commit under test is main), and
every change lands on main. So the compared-against contracts are a file in the tree instead: a
buf image (descriptors without source info, imports included, as JSON with one key per line so a
refresh shows in review which types and fields moved). Refreshing it is the deliberate act that
accepts a breaking change: `make api-baseline`, committed with the reason.

    .venv/bin/python tools/api_baseline.py            # rewrite the file from protos/
    .venv/bin/python tools/api_baseline.py --check    # exit 1 if protos/ breaks it (what make lint runs)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE = REPO_ROOT / "protos" / "api-baseline.json"


def buf() -> str:
    """The pinned buf (buf-bin in the venv), else one on PATH."""
    pinned = REPO_ROOT / ".venv" / "bin" / "buf"
    return str(pinned) if pinned.exists() else "buf"


def write(path: Path = BASELINE) -> None:
    """Build the image of protos/ and write it to `path`, one key per line, keys sorted."""
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "image.json"
        subprocess.run(
            [buf(), "build", "protos", "--exclude-source-info", "-o", str(image)], cwd=REPO_ROOT, check=True
        )
        data = json.loads(image.read_text())
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def breaking(root: Path = REPO_ROOT, against: Path = BASELINE) -> subprocess.CompletedProcess[str]:
    """`buf breaking` of the workspace at `root` (its buf.yaml, protos/ and third_party/) against
    the image `against`, by buf.yaml's rules (FILE)."""
    return subprocess.run(
        [buf(), "breaking", "protos", "--against", str(against.resolve())],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    """Rewrite the baseline, or with --check report what breaks it."""
    parser = argparse.ArgumentParser(prog="api_baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check protos/ against the baseline instead")
    args = parser.parse_args(argv)
    if not args.check:
        write()
        print(f"wrote {BASELINE.relative_to(REPO_ROOT)}")
        return 0
    result = breaking()
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.stderr.write(
            "protos/ breaks the released contracts (protos/api-baseline.json). If the break is meant,"
            " run `make api-baseline` and say why in the commit.\n"
        )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
