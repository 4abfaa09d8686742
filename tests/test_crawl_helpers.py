"""Pure parts of the crawls: selector specs, link mapping, crawl items to a ParseResult."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crawlers import selectors
from crawlers.crawl import StartPageFailed, interpret, raw_event_from_dict, source_to_json
from crawlers.fetch import FetchError
from crawlers.records import FeedError, ParseResult, RawEvent
from crawlers.source import SourceConfig
from crawlers.spiders.base import below, rebase, rehost, same_site
from crawlers.spiders.tribe import endpoint_url, next_page_url

SAMPLE = Path(__file__).resolve().parents[1] / "config" / "samples" / "nl-sample"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (None, "must be a mapping"),
        ({"fields": {"title": "h3"}}, "'item'"),
        ({"item": "li", "fields": {"date": "p"}}, "at least 'title'"),
        ({"item": "li", "fields": {"title": "h3"}}, "'date' or 'start'"),
        ({"item": "li", "fields": {"title": "h3", "date": "p", "prijs": "b"}}, "unknown fields"),
        (
            {"item": "li", "fields": {"title": "h3", "date": "p"}, "parse": {"timezone": "Mars/X"}},
            "unknown time zone",
        ),
    ],
)
def test_selector_spec_errors_name_the_problem(mapping: object, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        selectors.spec_from_mapping(mapping)


def test_selector_spec_file_is_relative_to_the_sources_file() -> None:
    source = SourceConfig(
        id="co-gv",
        name="CO-GV",
        kind="selectors",
        url="html/co-gelderse-vallei-agenda.html",
        region="foodvalley",
        selectors="html/co-gelderse-vallei-agenda.selectors.yaml",
        base_dir=SAMPLE,
    )
    spec = selectors.load_spec(source)
    assert spec.item == "section#agenda article.agenda-item"
    assert spec.base_url == "https://www.co-gv.example.nl/agenda"
    missing = source.model_copy(update={"selectors": "nope.yaml"})
    with pytest.raises(FeedError, match="selectors file not found"):
        selectors.load_spec(missing)


def test_item_without_date_is_skipped_and_reported() -> None:
    spec = selectors.spec_from_mapping(
        {"item": "li", "fields": {"title": "b::text", "date": "i::text"}}
    )
    source = SourceConfig(
        id="s", name="s", kind="selectors", url="x", region="landelijk", selectors={"item": "li"}
    )
    result = ParseResult()
    found = selectors.records_from_page(
        "<ul><li><b>Open dag</b><i>za 13 mrt 2027</i></li><li><b>Nieuws</b></li>"
        "<li><b>Proefles</b><i>binnenkort</i></li></ul>",
        page_url="https://example.nl/agenda",
        spec=spec,
        source=source,
        result=result,
    )
    assert found.matched == 3 and [e.title for e in result.events] == ["Open dag"]
    assert result.events[0].start == date(2027, 3, 13)
    assert result.skipped == 2 and "no date" in result.problems[0].reason


def test_links_of_a_saved_page_are_mapped_onto_where_it_was_read() -> None:
    canonical = "https://www.overstappunt.example.nl/agenda.html"
    actual = "file:///data/overstappunt/agenda.html"
    assert (
        rebase(
            "https://www.overstappunt.example.nl/agenda/x.html", canonical=canonical, actual=actual
        )
        == "file:///data/overstappunt/agenda/x.html"
    )
    assert (
        rebase("https://elders.example.org/x.html", canonical=canonical, actual=actual)
        == "https://elders.example.org/x.html"
    )
    assert rehost(
        "https://www.school.example.nl/wp-json/tribe/events/v1/events/?page=2",
        actual="http://127.0.0.1:8080/wp-json/tribe/events/v1/events/",
    ) == ("http://127.0.0.1:8080/wp-json/tribe/events/v1/events/?page=2")


def test_which_links_a_list_page_follows() -> None:
    assert below("https://s.nl/agenda/open-dag.html", "https://s.nl/agenda.html")
    assert below("https://s.nl/agenda/open-dag", "https://s.nl/agenda/")
    assert not below("https://s.nl/contact.html", "https://s.nl/agenda.html")
    assert not below("https://s.nl/agenda/", "https://s.nl/agenda/")
    assert same_site("https://s.nl/a", "https://s.nl/b")
    assert not same_site("https://t.nl/a", "https://s.nl/b")
    assert same_site("file:///d/agenda/x.html", "file:///d/agenda.html")
    assert not same_site("file:///etc/passwd", "file:///d/agenda.html")


def test_tribe_addresses() -> None:
    assert endpoint_url("https://school.example.nl/") == (
        "https://school.example.nl/wp-json/tribe/events/v1/events/?per_page=50"
    )
    assert endpoint_url("https://school.example.nl", "2026-12-06") == (
        "https://school.example.nl/wp-json/tribe/events/v1/events/?per_page=50"
        "&start_date=2026-12-06"
    )
    api = "https://school.example.nl/wp-json/tribe/events/v1/events?page=1"
    assert endpoint_url(api) == api
    assert next_page_url(
        "file:///d/x.page1.json", "https://school.example.nl/wp-json/tribe/events/v1/events/?page=2"
    ) == ("file:///d/x.page2.json")


def test_crawl_items_become_a_parse_result() -> None:
    source = SourceConfig(id="s", name="s", kind="jsonld", url="x", region="landelijk")
    event = RawEvent(source_id="s", uid="u1", title="Open dag", start=date(2027, 3, 13))
    assert raw_event_from_dict(event.to_dict()) == event
    items = [
        {"type": "page", "url": "https://s.nl/", "status": 200, "bytes": 10, "start": True},
        {"type": "event", "event": event.to_dict()},
        {"type": "problem", "url": "https://s.nl/x", "reason": "HTTP 404 from https://s.nl/x"},
    ]
    result, stats = interpret(items, source, start="https://s.nl/")
    assert result.events == [event] and result.skipped == 1 and stats.http_status == 200
    with pytest.raises(FeedError, match=r"no schema\.org events found on 1 page"):
        interpret(items[:1], source, start="https://s.nl/")
    fatal = {
        "type": "fatal",
        "error": "fetch",
        "url": "https://s.nl/",
        "reason": "HTTP 503 from x",
        "status": 503,
    }
    with pytest.raises(StartPageFailed, match="HTTP 503") as raised:
        interpret([fatal], source, start="https://s.nl/")
    assert isinstance(raised.value, FetchError) and raised.value.status == 503
    # the type comes from the item's "error" field, not from the wording of the reason
    unreadable = {**fatal, "error": "feed", "reason": "cannot fetch: a confusing reason"}
    with pytest.raises(FeedError, match="confusing") as failed:
        interpret([unreadable], source, start="https://s.nl/")
    assert not isinstance(failed.value, FetchError)


def test_source_survives_the_trip_to_the_child_process() -> None:
    source = SourceConfig(
        id="s",
        name="s",
        kind="selectors",
        url="x.html",
        region="landelijk",
        interval="12h",
        selectors="x.yaml",
        base_dir=SAMPLE,
    )
    again = SourceConfig.model_validate(source_to_json(source))
    assert again == source and again.base_dir == SAMPLE
