"""Render the OpenAPI document as one self-contained HTML reference page (the edge's `GET /docs`).

Static HTML with inline CSS and no script, font or image from anywhere: it works offline and
behind any content security policy. Every operation gets a section (id = its operationId) with
its verb, path, summary, description, credentials, parameters, request body and answers; every
component schema gets a table of its properties (id = `schema-<name>`), linked from wherever it is used.
"""

from __future__ import annotations

import html
import re
from typing import Any

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;display:flex}
nav{width:19rem;flex:none;height:100vh;overflow:auto;position:sticky;top:0;background:#f4f5f7;padding:1rem;box-sizing:border-box;font-size:13px}
nav h2{font-size:13px;margin:1rem 0 .3rem;text-transform:uppercase;color:#555}
nav a{display:block;color:#1b1f24;text-decoration:none;padding:1px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
main{padding:1rem 2rem;max-width:60rem}
.operation,.schema{border-top:1px solid #ddd;padding:.5rem 0 1rem}
.verb{display:inline-block;min-width:4rem;font-weight:600;font-family:monospace}
.GET{color:#0a6b2d}.POST{color:#0b4fa8}.PATCH{color:#8a5a00}.PUT{color:#8a5a00}.DELETE{color:#a61b1b}
table{border-collapse:collapse;width:100%;margin:.3rem 0}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f5f7}code{background:#f4f5f7;padding:0 3px;border-radius:3px}
.muted{color:#666}.required{color:#a61b1b;font-size:12px}
"""
_REQUIRED = ' <span class="required">required</span>'


def _text(value: str) -> str:
    """Escape prose and turn `backticks` into <code> (the protos' comments use them)."""
    escaped = html.escape(value)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def _paragraphs(value: str) -> str:
    return "".join(
        f"<p>{_text(' '.join(block.split()))}</p>" for block in value.split("\n\n") if block.strip()
    )


def _schema_name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def type_label(schema: dict[str, Any]) -> str:
    """A short HTML label for a schema: a link for a reference, `array of …`, or the type and format."""
    if "$ref" in schema:
        name = _schema_name(schema["$ref"])
        return f'<a href="#schema-{html.escape(name)}">{html.escape(name.rsplit(".", 1)[-1])}</a>'
    if "allOf" in schema:
        return " and ".join(type_label(s) for s in schema["allOf"])
    if "anyOf" in schema:
        return " or ".join(type_label(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_label(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of string to {type_label(schema['additionalProperties'])}"
    label = " | ".join(kind) if isinstance(kind, list) else str(kind)
    if "format" in schema:
        label += f" ({schema['format']})"
    return html.escape(label)


def _constraints(schema: dict[str, Any]) -> str:
    notes = []
    for key, word in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
    ):
        if key in schema:
            notes.append(f"{word} {schema[key]}")
    if "pattern" in schema and schema.get("format") != "uuid":
        notes.append(f"pattern <code>{html.escape(schema['pattern'])}</code>")
    if "enum" in schema:
        notes.append("one of " + ", ".join(f"<code>{html.escape(str(v))}</code>" for v in schema["enum"]))
    if schema.get("readOnly"):
        notes.append("output only")
    if schema.get("writeOnly"):
        notes.append("input only")
    return "; ".join(notes)


def _properties_table(schema: dict[str, Any]) -> str:
    props = schema.get("properties", {})
    if not props:
        return '<p class="muted">No fields.</p>'
    required = set(schema.get("required", []))
    rows = []
    for name, prop in props.items():
        flag = _REQUIRED if name in required else ""
        limits = _constraints(prop)
        description = _paragraphs(prop.get("description", "")) + (
            f'<p class="muted">{limits}</p>' if limits else ""
        )
        rows.append(
            f"<tr><td><code>{html.escape(name)}</code>{flag}</td><td>{type_label(prop)}</td><td>{description}</td></tr>"
        )
    return "<table><tr><th>field</th><th>type</th><th>description</th></tr>" + "".join(rows) + "</table>"


def _security(op: dict[str, Any]) -> str:
    if op.get("security") == []:
        return "<p><strong>Credentials:</strong> none (public).</p>"
    roles = op.get("x-gx-roles")
    who = f" Roles: {', '.join(f'<code>{html.escape(r)}</code>' for r in roles)}." if roles else ""
    return f"<p><strong>Credentials:</strong> <code>Authorization: Bearer &lt;JWT&gt;</code> or <code>X-API-Key</code>.{who}</p>"


def _operation(path: str, verb: str, op: dict[str, Any]) -> str:
    parts = [
        f'<section class="operation" id="{html.escape(op["operationId"])}">',
        f'<h3><span class="verb {verb.upper()}">{verb.upper()}</span> <code>{html.escape(path)}</code></h3>',
        f'<p class="muted">{html.escape(op["operationId"])}</p>',
        _paragraphs(op.get("description", op.get("summary", ""))),
        _security(op),
    ]
    params = op.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td><code>{html.escape(p['name'])}</code>{_REQUIRED if p.get('required') else ''}</td>"
            f"<td>{html.escape(p['in'])}</td><td>{type_label(p.get('schema', {}))}</td>"
            f"<td>{_paragraphs(p.get('description', ''))}</td></tr>"
            for p in params
        )
        parts.append(
            "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>"
            + rows
            + "</table>"
        )
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is not None:
        parts.append("<h4>Request body</h4>")
        parts.append(
            f"<p>{type_label(body)}</p>"
            if "$ref" in body or "properties" not in body
            else _properties_table(body)
        )
    answers: list[str] = []
    for status, answer in op.get("responses", {}).items():
        if "$ref" in answer:
            answers.append(
                f'<tr><td>{html.escape(status)}</td><td>an error: <a href="#schema-google.rpc.Status">google.rpc.Status</a></td></tr>'
            )
            continue
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        answers.append(
            f"<tr><td>{html.escape(status)}</td><td>{type_label(schema)} — {_text(answer.get('description', ''))}</td></tr>"
        )
    parts.append(
        "<h4>Answers</h4><table><tr><th>status</th><th>body</th></tr>" + "".join(answers) + "</table>"
    )
    parts.append("</section>")
    return "".join(parts)


def render(doc: dict[str, Any]) -> str:
    """The whole page for an OpenAPI document from `openapi_schema.generate`."""
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {t["name"]: [] for t in doc.get("tags", [])}
    for path, methods in doc["paths"].items():
        for verb, op in methods.items():
            by_tag.setdefault(op.get("tags", ["other"])[0], []).append((path, verb, op))
    descriptions = {t["name"]: t.get("description", "") for t in doc.get("tags", [])}
    nav: list[str] = []
    body: list[str] = []
    for tag, ops in by_tag.items():
        nav.append(f"<h2>{html.escape(tag.rsplit('.', 1)[-1])}</h2>")
        nav += [
            f'<a href="#{html.escape(op["operationId"])}">{verb.upper()} {html.escape(path)}</a>'
            for path, verb, op in ops
        ]
        body.append(
            f'<h2 id="tag-{html.escape(tag)}">{html.escape(tag)}</h2>{_paragraphs(descriptions.get(tag, ""))}'
        )
        body += [_operation(path, verb, op) for path, verb, op in ops]
    body.append('<h2 id="schemas">Schemas</h2>')
    for name, schema in doc["components"]["schemas"].items():
        table = _properties_table(schema) if schema.get("type") == "object" or "properties" in schema else ""
        limits = _constraints(schema)
        body.append(
            f'<section class="schema" id="schema-{html.escape(name)}"><h3>{html.escape(name)}</h3>'
            f"<p>{type_label(schema) if not table else 'object'}</p>"
            f"{_paragraphs(schema.get('description', ''))}{f'<p class=muted>{limits}</p>' if limits else ''}{table}</section>"
        )
    info = doc["info"]
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(info['title'])} reference</title><style>{_CSS}</style></head>"
        f"<body><nav><strong>{html.escape(info['title'])}</strong> {html.escape(info['version'])}"
        f'<a href="#schemas">Schemas</a>{"".join(nav)}</nav>'
        f"<main><h1>{html.escape(info['title'])} reference</h1>{_paragraphs(info.get('description', ''))}"
        '<p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a>. Errors are '
        '<a href="#schema-google.rpc.Status">google.rpc.Status</a> JSON.</p>'
        f"{''.join(body)}</main></body></html>\n"
    )
