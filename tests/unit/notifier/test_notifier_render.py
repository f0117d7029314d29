"""Rendering templates: subject line, both parts, HTML escaping, missing values."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.render import TEMPLATES_DIR, Renderer, TemplateError


def _templates(tmp_path: Path, txt: str, html: str = "<p>$name</p>") -> Path:
    (tmp_path / "t.txt").write_text(txt)
    (tmp_path / "t.html").write_text(html)
    return tmp_path


def test_subject_text_and_html_are_rendered_with_html_escaped_values(tmp_path: Path) -> None:
    renderer = Renderer(_templates(tmp_path, "Subject: Hi $name\n\nHello $name"))
    rendered = renderer.render("t", {"name": "<Ana & Bo>"})
    assert rendered.subject == "Hi <Ana & Bo>"
    assert rendered.text == "Hello <Ana & Bo>"
    assert rendered.html == "<p>&lt;Ana &amp; Bo&gt;</p>"


def test_a_value_cannot_add_a_header_line_through_the_subject(tmp_path: Path) -> None:
    renderer = Renderer(_templates(tmp_path, "Subject: Hi $name\n\nbody"))
    assert (
        renderer.render("t", {"name": "x\r\nBcc: evil@example.org"}).subject == "Hi x Bcc: evil@example.org"
    )


def test_defaults_fill_what_the_context_lacks_and_the_context_wins(tmp_path: Path) -> None:
    renderer = Renderer(
        _templates(tmp_path, "Subject: s\n\n$base_url $name"), defaults={"base_url": "B", "name": "D"}
    )
    assert renderer.render("t", {"name": "C"}).text == "B C"


@pytest.mark.parametrize(
    ("txt", "context", "message"),
    [
        ("Subject: s\n\n$missing", {}, "no value"),
        ("no subject line\n\nbody", {"name": "x"}, "Subject:"),
    ],
)
def test_malformed_templates_and_missing_values_raise(
    tmp_path: Path, txt: str, context: dict[str, str], message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        Renderer(_templates(tmp_path, txt)).render("t", context)


def test_a_missing_template_raises(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="nothing"):
        Renderer(tmp_path).render("nothing", {})


@pytest.mark.parametrize("name", sorted({p.stem for p in TEMPLATES_DIR.glob("*.txt")}))
def test_every_shipped_template_has_both_parts_and_a_subject(name: str) -> None:
    assert (TEMPLATES_DIR / f"{name}.html").is_file()
    first = (TEMPLATES_DIR / f"{name}.txt").read_text().splitlines()[0]
    assert first.startswith("Subject: ")
