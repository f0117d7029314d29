"""tools/openapi_docs.py: the offline reference page (`GET /docs`) rendered from the generated document."""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser

from devstack.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tools"))

import openapi
from openapi_docs import render


class _Page(HTMLParser):
    """Collects ids, in-page links, and anything that would load from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.anchors: list[str] = []
        self.external: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        href = values.get("href") or ""
        if href.startswith("#"):
            self.anchors.append(href[1:])
        if tag in ("script", "link", "img", "iframe", "object") or values.get("src") or "//" in href:
            self.external.append(f"<{tag} {values}>")


def _page() -> tuple[dict, _Page]:  # type: ignore[type-arg]
    doc = json.loads(openapi.OUTPUT.read_text())
    parser = _Page()
    parser.feed(openapi.OUTPUT.with_name(openapi.DOCS_NAME).read_text())
    return doc, parser


def test_the_page_is_the_rendering_of_the_committed_document() -> None:
    doc = json.loads(openapi.OUTPUT.read_text())
    assert render(doc) == openapi.OUTPUT.with_name(openapi.DOCS_NAME).read_text()


def test_every_operation_and_schema_has_a_section() -> None:
    doc, page = _page()
    operations = {op["operationId"] for methods in doc["paths"].values() for op in methods.values()}
    assert operations and operations <= page.ids
    assert {f"schema-{name}" for name in doc["components"]["schemas"]} <= page.ids


def test_every_in_page_link_has_a_target() -> None:
    _, page = _page()
    assert page.anchors
    assert sorted(set(page.anchors) - page.ids) == []


def test_it_loads_nothing_from_elsewhere() -> None:
    # Offline: no script, stylesheet, font or image from any server, so no CDN is needed.
    _, page = _page()
    assert page.external == []
    assert "style" in page.tags


def test_comment_markup_is_escaped() -> None:
    doc = {
        "info": {"title": "T", "version": "v1", "description": "uses `code` and <b>tags</b>"},
        "tags": [],
        "paths": {},
        "components": {"schemas": {}},
    }
    text = render(doc)
    assert "<code>code</code>" in text and "&lt;b&gt;tags&lt;/b&gt;" in text
