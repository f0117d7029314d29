"""Rendering an email from its templates at send time: `templates/<name>.txt` (Subject line + body) and `.html`.

`string.Template` (`$name` placeholders): no template engine is a dependency of the mesh, and
these templates need substitution only. Values are HTML-escaped in the HTML part; the subject is
kept to one line whatever the context holds (no header injection through a value).
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
_SUBJECT: Final = "Subject:"


class TemplateError(Exception):
    """A template is missing, malformed, or names a value the context does not have (not retryable)."""


@dataclass(frozen=True)
class Rendered:
    """One email's subject and its two parts."""

    subject: str
    text: str
    html: str


class Renderer:
    """Loads templates once per name and renders them with a context.

    Args:
        directory: Where `<name>.txt` and `<name>.html` live.
        defaults: Values every template may use (`base_url`); the message's context wins.
    """

    def __init__(self, directory: Path = TEMPLATES_DIR, defaults: Mapping[str, Any] | None = None) -> None:
        self._dir = directory
        self._defaults = dict(defaults or {})
        self._cache: dict[str, tuple[string.Template, string.Template, string.Template]] = {}

    def _load(self, name: str) -> tuple[string.Template, string.Template, string.Template]:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        try:
            text_source = (self._dir / f"{name}.txt").read_text(encoding="utf-8")
            html_source = (self._dir / f"{name}.html").read_text(encoding="utf-8")
        except OSError as error:
            raise TemplateError(f"template {name!r}: {error.strerror or error}") from None
        first, _, body = text_source.partition("\n")
        if not first.startswith(_SUBJECT):
            raise TemplateError(f"template {name!r}: the .txt must start with a '{_SUBJECT}' line")
        loaded = (
            string.Template(first.removeprefix(_SUBJECT).strip()),
            string.Template(body.lstrip("\n")),
            string.Template(html_source),
        )
        self._cache[name] = loaded
        return loaded

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Render template `name` with `context` (defaults first).

        Raises:
            TemplateError: the template is missing or malformed, or a placeholder has no value.
        """
        subject, text, html_template = self._load(name)
        values = {**self._defaults, **context}
        plain = {key: str(value) for key, value in values.items()}
        escaped = {key: html.escape(value) for key, value in plain.items()}
        try:
            return Rendered(
                subject=" ".join(subject.substitute(plain).split()),
                text=text.substitute(plain),
                html=html_template.substitute(escaped),
            )
        except (KeyError, ValueError) as error:
            raise TemplateError(f"template {name!r}: no value for {error}") from None
