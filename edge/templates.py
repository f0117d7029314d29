"""`google.api.http` path templates as the edge matches them: RE2 regexes (jwt_authn rules) and Lua patterns (validate.lua)."""

from __future__ import annotations

import re


def template_regex(template: str) -> str:
    """Turn a `google.api.http` path template into an RE2 regex for the whole path (query excluded).

    `{var}` and `*` match one segment, `**` any remainder, `{var=pattern}` its pattern; a
    trailing `:verb` is literal.
    """
    verb = ""
    last_slash = template.rfind("/")
    colon = template.rfind(":")
    if colon > last_slash and "}" not in template[colon:]:
        template, verb = template[:colon], template[colon:]

    def segment(seg: str) -> str:
        if seg == "**":
            return ".+"
        if seg == "*":
            return "[^/]+"
        return re.escape(seg)

    out = []
    pos = 0
    for var in re.finditer(r"\{([^}=]+)(?:=([^}]*))?\}", template):
        out.append(re.escape(template[pos : var.start()]))
        pattern = var.group(2) or "*"
        out.append("/".join(segment(s) for s in pattern.split("/")))
        pos = var.end()
    out.append(re.escape(template[pos:]))
    # re.escape escapes '/' and ':' needlessly for RE2-compatible output; undo for readability.
    body = "".join(out).replace("\\/", "/").replace("\\:", ":").replace("\\-", "-")
    return "^" + body + re.escape(verb).replace("\\:", ":") + "$"


def template_lua_pattern(template: str) -> str:
    """Turn a `google.api.http` path template into an anchored Lua pattern (Lua has no regex)."""
    magic = "^$()%.[]*+-?"

    def literal(text: str) -> str:
        return "".join("%" + c if c in magic else c for c in text)

    out = []
    pos = 0
    for var in re.finditer(r"\{([^}=]+)(?:=([^}]*))?\}", template):
        out.append(literal(template[pos : var.start()]))
        pattern = var.group(2) or "*"
        segs = [
            "[^/]+" if seg == "*" else ".+" if seg == "**" else literal(seg) for seg in pattern.split("/")
        ]
        out.append("/".join(segs))
        pos = var.end()
    out.append(literal(template[pos:]))
    return "^" + "".join(out) + "$"
