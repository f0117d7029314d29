"""The two Lua filters: response shaping (edge.lua) and the request body check (validate.lua with its schema).

Both scripts live in this package and are inlined into the configuration, so the rendered file
stands alone: a container running Envoy needs no file from the repository.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edge.core import LUA_FILTER
from edge.descriptor import FieldShape, Service
from edge.errors import EdgeConfigError
from edge.templates import template_lua_pattern

_PACKAGE = Path(__file__).resolve().parent.parent
EDGE_SCRIPT = _PACKAGE / "edge.lua"
VALIDATE_SCRIPT = _PACKAGE / "validate.lua"
# validate.lua's placeholder line, replaced by the schema generated from the descriptor set.
_SCHEMA_MARKER = "local SCHEMA = { routes = {}, messages = {} } -- @@SCHEMA@@"


def _lua_filter(source: str) -> dict[str, Any]:
    return {
        "name": LUA_FILTER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
            "default_source_code": {"inline_string": source},
        },
    }


def shaping_filter() -> dict[str, Any]:
    """edge.lua, first in the chain: statuses, JSON error bodies, header hygiene, the API-key mark."""
    return _lua_filter(EDGE_SCRIPT.read_text())


def validation_filter(
    services: Sequence[Service], shapes: Mapping[str, Mapping[str, FieldShape]]
) -> dict[str, Any]:
    """validate.lua with the schema of `services`: a REST body with an unknown field gets 400."""
    return _lua_filter(validation_lua(services, shapes))


def _lua_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def validation_lua(services: Sequence[Service], shapes: Mapping[str, Mapping[str, FieldShape]]) -> str:
    """Render validate.lua with the routes and request message shapes of `services`.

    Raises:
        EdgeConfigError: validate.lua lost the marker line the schema replaces.
    """
    routes: list[str] = []
    wanted: list[str] = []
    for svc in services:
        for method in svc.methods:
            for rule in method.http_rules:
                if not rule.body:
                    continue
                target = method.input_type
                if rule.body != "*":
                    field = shapes.get(target, {}).get(rule.body)
                    if field is None or field.message is None:
                        continue  # a scalar or opaque body: nothing to check key by key
                    target = field.message
                routes.append(
                    f"{{verb={_lua_str(rule.verb)}, pattern={_lua_str(template_lua_pattern(rule.template))}, message={_lua_str(target)}}}"
                )
                wanted.append(target)
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen or name not in shapes:
            continue
        seen.add(name)
        wanted += [f.message for f in shapes[name].values() if f.message]
    messages = []
    for name in sorted(seen):
        entries = []
        for key, shape in sorted(shapes[name].items()):
            attrs = ([f"m={_lua_str(shape.message)}"] if shape.message else []) + (
                ["map=true"] if shape.is_map else []
            )
            entries.append(f"[{_lua_str(key)}]={{{', '.join(attrs)}}}")
        messages.append(f"[{_lua_str(name)}]={{{', '.join(entries)}}}")
    schema = (
        "local SCHEMA = {\n routes = {\n  "
        + ",\n  ".join(routes)
        + "\n },\n messages = {\n  "
        + ",\n  ".join(messages)
        + "\n },\n}"
    )
    source = VALIDATE_SCRIPT.read_text()
    if _SCHEMA_MARKER not in source:
        raise EdgeConfigError(f"envoy: {VALIDATE_SCRIPT} lost its schema marker line")
    return source.replace(_SCHEMA_MARKER, schema)
