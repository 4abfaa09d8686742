"""The embed's colour rules: hex spellings and the WCAG contrast they must keep."""

from __future__ import annotations

import pytest

from api.embed_options import contrast_ratio, parse_hex_color, text_color_for


@pytest.mark.parametrize(
    ("text", "expected"),
    [("#0B5394", "#0b5394"), ("0b5394", "#0b5394"), ("#05a", "#0055aa"), (" fff ", "#ffffff")],
)
def test_hex_spellings(text: str, expected: str) -> None:
    assert parse_hex_color(text) == expected


@pytest.mark.parametrize("text", ["blue", "#12345", "#gggggg", "rgb(0,0,0)", "#ffffff;x:y", ""])
def test_not_hex(text: str) -> None:
    assert parse_hex_color(text) is None


def test_contrast_matches_wcag_reference_values() -> None:
    # WCAG 2.1's extremes and the well-known AA boundary grey #767676 (4.54 : 1 on white)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < 4.5
    assert contrast_ratio("#ffffff", "#767676") == contrast_ratio("#767676", "#ffffff")


def test_text_colour_follows_the_background() -> None:
    assert text_color_for("#ffffff") == "#1b1b1b"
    assert text_color_for("#073763") == "#ffffff"
