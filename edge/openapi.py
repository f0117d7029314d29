"""`GET /openapi.json` and `GET /docs` at the edge: the OpenAPI document generated from the protos and
its offline reference page, served by Envoy itself.

A `direct_response` route per file carries it inline, so the rendered configuration stands alone
(like the inlined Lua: a Kubernetes edge container needs no file from the repository) and no
process has to run to serve a static answer. The files are `gen/openapi/openapi.json` and
`gen/openapi/docs.html`, which `make gen` regenerates and `make lint` keeps current; the edge serves
what is checked in.

The routes are public: on them the filters that would refuse or transform the request are switched
off (Envoy's generic per-route `FilterConfig.disabled`): ext_authz (no API key needed), jwt_authn
(no token needed) and the gRPC-JSON transcoder (which rejects any path that is no RPC). The
response-shaping Lua filter stays: it leaves a 200 JSON answer alone.

Applied to a configuration `edge.build_config` returned (by the dev stack's edge part and by
`manifests/edge_config.py`), so the generator of the rest of the edge stays untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.core import EXT_AUTHZ_FILTER, JWT_FILTER, TRANSCODER_FILTER
from edge.errors import EdgeConfigError
from edge.listeners import edge_manager

DOCUMENT = Path(__file__).resolve().parent.parent / "gen" / "openapi" / "openapi.json"
PAGE = DOCUMENT.with_name("docs.html")
PATH = "/openapi.json"
PAGE_PATH = "/docs"
# Filters the public document route skips (by their names in the HTTP filter chain).
_SKIPPED_FILTERS = (EXT_AUTHZ_FILTER, JWT_FILTER, TRANSCODER_FILTER)
# Envoy refuses a direct_response body above route_config.max_direct_response_body_size_bytes
# (default 4 KiB); the document is a few hundred KiB.
_MAX_BODY = 4 * 1024 * 1024


def route(name: str, path: str, text: str, content_type: str, filter_names: list[str]) -> dict[str, Any]:
    """The route answering `GET path` with `text`."""
    disabled = {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "disabled": True}
    overwrite = "OVERWRITE_IF_EXISTS_OR_ADD"
    return {
        "name": name,
        "match": {"path": path, "headers": [{"name": ":method", "string_match": {"exact": "GET"}}]},
        "direct_response": {"status": 200, "body": {"inline_string": text}},
        "response_headers_to_add": [
            {"header": {"key": "content-type", "value": content_type}, "append_action": overwrite},
            {"header": {"key": "cache-control", "value": "no-cache"}, "append_action": overwrite},
        ],
        "typed_per_filter_config": {f: disabled for f in _SKIPPED_FILTERS if f in filter_names},
    }


def _read(file: Path) -> str:
    try:
        text = file.read_text()
    except OSError as exc:
        raise EdgeConfigError(f"edge: no {file.name} at {file} (run `make gen`)") from exc
    if len(text.encode()) > _MAX_BODY:
        raise EdgeConfigError(f"edge: {file} is larger than {_MAX_BODY} bytes")
    return text


def add_route(config: dict[str, Any], document: Path = DOCUMENT, page: Path = PAGE) -> dict[str, Any]:
    """Put the `/openapi.json` and `/docs` routes first in the edge listener's routes; return `config`.

    Raises:
        EdgeConfigError: A file is missing (run `make gen`) or too large to serve inline.
    """
    manager = edge_manager(config)
    names = [f["name"] for f in manager["http_filters"]]
    ours = [
        route("openapi", PATH, _read(document), "application/json", names),
        route("docs", PAGE_PATH, _read(page), "text/html; charset=utf-8", names),
    ]
    route_config = manager["route_config"]
    route_config["max_direct_response_body_size_bytes"] = _MAX_BODY
    for host in route_config["virtual_hosts"]:
        host["routes"] = [*ours, *[r for r in host["routes"] if r.get("name") not in ("openapi", "docs")]]
    return config
