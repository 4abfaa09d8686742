"""Taxonomy keyword matching: the same answers as the regular expressions, in linear time."""

from __future__ import annotations

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import load_config
from aggregator.draft import EventDraft
from aggregator.keywords import matches_any
from config import bundled
from tests.test_classify_rules import classify

CONFIG = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))


def regex_matches(text: str, keyword: str) -> bool:
    """The reference: the keyword as a backtracking regular expression (fine on short text)."""
    word = keyword.strip()
    body = re.escape(word.strip("*").strip()).replace(r"\ ", r"\s+")
    head = "" if word.startswith("*") else r"(?<!\w)"
    tail = "" if word.endswith("*") else r"(?!\w)"
    return re.search(head + body + tail, text, re.IGNORECASE) is not None


ALPHABET = "abo- _\n(v)sÉé"
KEYWORDS = ["ab", "ab*", "*ab", "*ab*", "a b", "(v)so", "é", "bo-a*", "*o a", "*o-"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30), st.sampled_from(KEYWORDS))
def test_same_answer_as_the_regular_expression(text: str, keyword: str) -> None:
    assert matches_any(text, [keyword]) == regex_matches(text, keyword), (text, keyword)


def test_every_taxonomy_keyword_agrees_on_real_titles() -> None:
    titles = [
        "Onderwijsbanenmarkt Twente",
        "Voorlichtingsavond zij-instroom PO",
        "Webinar: leraar worden (v)so",
        "Meet & Match onderwijs",
        "Online  informatieavond\tpabo",
    ]
    taxonomy = CONFIG.taxonomy
    keywords = {k for term in taxonomy.activity_types + taxonomy.sectors for k in term.keywords}
    for title in titles:
        for keyword in keywords:
            assert matches_any(title, [keyword]) == regex_matches(title, keyword), (title, keyword)


def _classify(title: str, description: str) -> EventDraft:
    source = next(s for s in CONFIG.sources if s.relevance == "keywords")
    return classify(title, description, source)


def test_one_long_word_and_a_huge_line_classify_in_bounded_time() -> None:
    # the old \w*-wrapped patterns took 10 s on a 10,000-character word, 131 s on 40,000
    cases = [
        ("a" * 40_000, "voorlichting"),
        ("webinarx" * 5_000, "webinar"),  # "*webinar*" matches inside the word
        (("zij-instroom " + "b" * 987 + "\n") * 10_000, "voorlichting"),  # 10 MB, long lines
        ("b" * 10_000_000, "voorlichting"),  # one 10 MB line without a break
    ]
    _classify("Informatieavond zij-instroom", "")  # load the gazetteer and the mask first
    for text, expected in cases:
        started = time.process_time()  # CPU time: the suite shares two cores
        draft = _classify(f"Informatieavond zij-instroom {text[:50_000]}", text)
        assert draft.activity_type == expected
        # linear: a fraction of a second for 40,000 characters, a few for 10 MB
        assert time.process_time() - started < (1.0 if len(text) < 100_000 else 10.0), len(text)


def test_place_names_are_not_format_words() -> None:
    # "Bergen op Zoom" is a gemeente, not a Zoom meeting; "Zoom" alone still is
    place = _classify("Informatieavond zij-instroom in Bergen op Zoom", "Welkom in Bergen-op-Zoom.")
    assert place.attendance == "offline"
    meeting = _classify("Informatieavond zij-instroom via Zoom", "")
    assert meeting.attendance == "online" and meeting.activity_type == "webinar"
