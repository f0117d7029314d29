"""Write (or check) the OpenAPI 3.1 document of the public edge: `make gen` writes it, `make lint` checks it.

    python tools/openapi.py            # compile protos/, generate, validate, write gen/openapi/openapi.json
    python tools/openapi.py --check    # fail if the file differs from what the protos give now

The descriptor set is compiled here with grpcio-tools' protoc (devstack.descriptor.build, with
source info for the comments), so the output depends only on protos/ and never on a stale
build/. The generator itself is tools/openapi_schema.py; the document is validated with
openapi-spec-validator before it is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "gen" / "openapi" / "openapi.json"


def _paths() -> None:
    for extra in (ROOT, ROOT / "gen" / "python", ROOT / "tools"):
        if str(extra) not in sys.path:
            sys.path.insert(0, str(extra))


def render(descriptor: Path | None = None) -> str:
    """Generate and validate the document; return its file text."""
    _paths()
    from openapi_schema import generate
    from openapi_spec_validator import validate

    if descriptor is None:
        from devstack.descriptor import build

        with tempfile.TemporaryDirectory(prefix="gx-openapi-") as tmp:
            data = build(ROOT, Path(tmp) / "gx.binpb").read_bytes()
    else:
        data = descriptor.read_bytes()
    document: dict[str, Any] = generate(data)
    validate(document)  # type: ignore[arg-type]
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _shown(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    parser.add_argument(
        "--descriptor", type=Path, help="a descriptor set to read instead of compiling protos/"
    )
    args = parser.parse_args(argv)
    _paths()
    from openapi_schema import OpenApiError

    try:
        text = render(args.descriptor)
    except OpenApiError as exc:
        print(f"openapi: {exc}", file=sys.stderr)
        return 1
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"openapi: {_shown(args.out)} is stale; run `make gen`", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"openapi: wrote {_shown(args.out)} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
