"""Write (or check) the OpenAPI 3.1 document of the public edge: `make gen` writes it, `make lint` checks it.

    python tools/openapi.py            # compile protos/, generate, validate, write gen/openapi/
    python tools/openapi.py --check    # fail if a file differs from what the protos give now

Two files: `openapi.json` (the document, `GET /openapi.json` at the edge) and `docs.html` (the
offline reference page rendered from it by tools/openapi_docs.py, `GET /docs`).

The descriptor set is compiled here with grpcio-tools' protoc (edge.descriptor.build, with
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
DOCS_NAME = "docs.html"


def _paths() -> None:
    for extra in (ROOT, ROOT / "gen" / "python", ROOT / "tools"):
        if str(extra) not in sys.path:
            sys.path.insert(0, str(extra))


def render(descriptor: Path | None = None) -> tuple[str, str]:
    """Generate and validate the document; return the text of openapi.json and of docs.html."""
    _paths()
    from openapi_docs import render as render_docs
    from openapi_schema import generate
    from openapi_spec_validator import validate

    if descriptor is None:
        from edge.descriptor import build

        with tempfile.TemporaryDirectory(prefix="gx-openapi-") as tmp:
            data = build(ROOT, Path(tmp) / "gx.binpb").read_bytes()
    else:
        data = descriptor.read_bytes()
    document: dict[str, Any] = generate(data)
    validate(document)
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n", render_docs(document)


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
        document, docs = render(args.descriptor)
    except OpenApiError as exc:
        print(f"openapi: {exc}", file=sys.stderr)
        return 1
    outputs = {args.out: document, args.out.with_name(DOCS_NAME): docs}
    if args.check:
        stale = [path for path, text in outputs.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"openapi: {_shown(path)} is stale; run `make gen`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"openapi: wrote {_shown(path)} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
