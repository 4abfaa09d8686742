"""HTML to text: one renderer for readers, the normalise stage and the iCal export."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from crawlers.html_text import html_to_text, looks_like_html

HTML = Path(__file__).parent / "data" / "html"


def test_unescapes_escaped_html_and_drops_scripts() -> None:
    text = html_to_text(
        "&lt;p&gt;Wanneer: 9&amp;nbsp;maart&lt;/p&gt;<script>var x = '1 mei 2027';</script>",
        links=False,
    )
    assert text == "Wanneer: 9 maart"


def test_keeps_paragraphs_cells_and_links() -> None:
    text = html_to_text(
        "<p>Welkom!</p><table><tr><td>Datum</td><td>9 maart</td></tr></table><p>Meld je aan "
        'via <a href="https://example.org/aanmelden">deze pagina</a> of '
        '<a href="https://example.org">https://example.org</a>.</p>'
    )
    assert text == (
        "Welkom!\n\nDatum 9 maart\n\n"
        "Meld je aan via deze pagina (https://example.org/aanmelden) of https://example.org."
    )
    assert html_to_text('<a href="https://example.org/x">deze pagina</a>', links=False) == (
        "deze pagina"
    )


def test_plain_text_is_left_as_it_is() -> None:
    assert html_to_text("Open dag\nZaal 2") == "Open dag\nZaal 2"
    assert not looks_like_html("Open dag 9 maart, 19:30") and looks_like_html("a &amp; b")


@pytest.mark.parametrize("name", sorted(p.name for p in HTML.glob("*.html")))
def test_same_characters_as_lxml(name: str) -> None:
    """Checked against lxml's text_content: the same characters, whitespace aside."""
    markup = (HTML / name).read_text(encoding="utf-8")
    document = lxml.html.fromstring(markup)
    for element in document.xpath("//script|//style|//template|//noscript|//head"):
        element.drop_tree()
    body = lxml.html.tostring(document, encoding="unicode")
    expected = "".join(document.text_content().split())
    assert "".join(html_to_text(body, links=False).split()) == expected
