"""Harvesting the new kinds end to end: RSS, child-process crawls, failures that keep events."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from aggregator.models import HarvestRun, SourceRecord
from crawlers.crawl import CrawlOptions
from tests.cli import run_cli
from tests.conftest import config_for, write_sources
from tests.harvesting import harvest_once

UA = "overstap-agenda-tests"
CO_GV = "co-gelderse-vallei-agenda"


def _harvest(engine: Engine, config, tmp_path: Path):  # type: ignore[no-untyped-def]
    options = CrawlOptions(
        user_agent=UA, delay=0, retries=0, backoff=0, timeout=5, cache_dir=str(tmp_path / "cache")
    )
    outcomes = harvest_once(engine, config, crawl_options=options)
    return {o.source_id: o for o in outcomes}


def _live(engine: Engine, source_id: str) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(SourceRecord)
            .where(
                SourceRecord.source_id == source_id,
                SourceRecord.removed_at.is_(None),  # type: ignore[union-attr]
            )
        ).one()


def _runs(engine: Engine, source_id: str) -> list[HarvestRun]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(HarvestRun).where(HarvestRun.source_id == source_id).order_by(HarvestRun.id)
            )
        )


def test_changed_layout_fails_the_source_and_keeps_its_events(
    engine: Engine, tmp_path: Path, sample_dir: Path
) -> None:
    for suffix in (".html", ".selectors.yaml"):
        shutil.copy(sample_dir / "html" / f"{CO_GV}{suffix}", tmp_path / f"{CO_GV}{suffix}")
    sources = write_sources(
        tmp_path / "sources.yaml",
        [
            {
                "id": "co-gv",
                "name": "CO-GV",
                "kind": "selectors",
                "url": f"{CO_GV}.html",
                "selectors": f"{CO_GV}.selectors.yaml",
                "region": "foodvalley",
                "relevance": "all",
            },
        ],
    )
    config = config_for(sources)
    first = _harvest(engine, config, tmp_path)["co-gv"]
    assert first.outcome == "success" and first.new == 11
    assert _live(engine, "co-gv") == 11
    assert _harvest(engine, config, tmp_path)["co-gv"].outcome == "unchanged"

    page = tmp_path / f"{CO_GV}.html"
    redesigned = re.sub(
        r'<section id="agenda".*?</section>',
        '<div class="events-grid"><div class="card">Nieuwe site!</div></div>',
        page.read_text(encoding="utf-8"),
        flags=re.DOTALL,
    )
    page.write_text(redesigned, encoding="utf-8")
    failed = _harvest(engine, config, tmp_path)["co-gv"]
    assert failed.outcome == "failed"
    assert "matched nothing" in (failed.error or "") and "layout" in (failed.error or "")
    assert _live(engine, "co-gv") == 11  # the earlier events stay published
    runs = _runs(engine, "co-gv")
    assert [r.outcome for r in runs] == ["success", "unchanged", "failed"]
    assert "layout" in (runs[-1].error or "")


def test_feed_items_without_a_date_are_skipped_and_counted(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "agenda.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Agenda</title>'
        "<item><title>Informatieavond zij-instroom</title><guid>a-1</guid>"
        "<description>dinsdag 9 maart 2027 van 19.30 tot 21.00 uur, Zwolle</description>"
        "<pubDate>Tue, 05 Jan 2027 08:00:00 +0100</pubDate></item>"
        "<item><title>Nieuwe website online</title><guid>a-2</guid>"
        "<description>Onze site is vernieuwd.</description>"
        "<pubDate>Tue, 05 Jan 2027 08:00:00 +0100</pubDate></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    sources = write_sources(
        tmp_path / "sources.yaml",
        [
            {
                "id": "feed",
                "name": "Feed",
                "kind": "rss",
                "url": "agenda.xml",
                "region": "regio-zwolle",
            },
        ],
    )
    outcome = _harvest(engine, config_for(sources), tmp_path)["feed"]
    assert outcome.outcome == "success" and outcome.new == 1 and outcome.skipped == 1
    assert _runs(engine, "feed")[0].records_skipped == 1


def test_unsupported_format_fails_with_one_clear_message(engine: Engine, tmp_path: Path) -> None:
    shutil.copy(
        Path(__file__).parent / "data/xml/nl_uitdatabank_cdbxml_eventlist.xml", tmp_path / "uit.xml"
    )
    shutil.copy(Path(__file__).parent / "data/json/meetup_api_event.json", tmp_path / "meetup.json")
    sources = write_sources(
        tmp_path / "sources.yaml",
        [
            {"id": "uit", "name": "UiT", "kind": "rss", "url": "uit.xml", "region": "landelijk"},
            {
                "id": "meetup",
                "name": "Meetup",
                "kind": "tribe",
                "url": "meetup.json",
                "region": "landelijk",
            },
        ],
    )
    outcomes = _harvest(engine, config_for(sources), tmp_path)
    assert outcomes["uit"].outcome == "failed"
    assert outcomes["uit"].error == (
        "unsupported format: UiTdatabank CdbXML, not an RSS or Atom feed"
    )
    assert outcomes["meetup"].outcome == "failed"
    assert (outcomes["meetup"].error or "").startswith("unsupported format: Meetup API event JSON")


def test_cli_harvests_all_bundled_sources_in_one_run(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}",
        "HARVEST_CACHE_DIR": str(tmp_path / "cache"),
        "AGENDA_CONFIG": None,
    }
    result = run_cli("harvest", "--now", "2027-01-05T00:00:00+01:00", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    output = " ".join(result.stderr.split())
    expected = {
        "onderwijsregio-groningen-drenthe": "ics",
        "friese-pabo-academie": "ics",
        "twents-onderwijsnetwerk": "ics",
        "onderwijsregio-utrecht-amersfoort": "ics",
        "overstappunt-onderwijs": "jsonld",
        "hogeschool-ijsseldelta": "tribe",
        "onderwijsnetwerk-regio-zwolle": "rss",
        "werkplein-arnhem-veluwe": "rss",
        "spo-de-walden": "rss",
        "co-gelderse-vallei": "selectors",
        "onderwijsregio-rijk-van-nijmegen": "jsonld",
        "utrechtse-lerarenacademie": "jsonld",
    }
    for source_id in expected:
        assert f"{source_id}: success (" in output, source_id
    assert "overstappunt-onderwijs: success (23 seen, 23 new" in output
    assert "hogeschool-ijsseldelta: success (17 seen, 17 new" in output
    assert "onderwijsnetwerk-regio-zwolle: success (12 seen, 12 new" in output
    assert "Harvest summary" in output and "failed" not in output
    _every_format_serves_the_demo(f"sqlite:///{tmp_path / 'demo.sqlite'}")


def _every_format_serves_the_demo(database_url: str) -> None:
    """The whole demo store through every publisher: real producers' text, no 5xx."""
    import icalendar
    from fastapi.testclient import TestClient

    from agenda.settings import Settings
    from agenda.web import create_app
    from aggregator.db import make_engine
    from config import bundled
    from tests.conftest import config_for

    engine = make_engine(database_url)
    client = TestClient(
        create_app(settings=Settings(), config=config_for(bundled("sources.yaml")), engine=engine)
    )
    params = {"from": "2027-01-01", "per_page": 200}
    api = client.get("/api/events", params=params).json()
    assert api["total"] == 157  # nl-sample EXPECTED.md: 157 occurrences, 3 cancelled
    ics = client.get("/calendar.ics", params={"from": "2027-01-01"})
    assert ics.status_code == 200, ics.text[:200]
    assert len(icalendar.Calendar.from_ical(ics.content).walk("VEVENT")) == 157
    for path in ("/feeds/events.rss", "/feeds/events.atom", "/feeds/events.json", "/"):
        assert client.get(path, params={"from": "2027-01-01"}).status_code == 200, path
    for item in api["items"][:200:20]:
        assert client.get(f"/events/{item['id']}").status_code == 200
    engine.dispose()


def test_cli_parse_crawls_a_list_page(tmp_path: Path, sample_dir: Path) -> None:
    result = run_cli(
        "parse",
        str(sample_dir / "html/overstappunt/agenda.html"),
        "--now",
        "2027-01-05T00:00:00+01:00",
        cwd=tmp_path,
        env={"HARVEST_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 23


def test_scheduler_crawls_the_same_source_again_in_one_process(
    engine: Engine, tmp_path: Path, sample_dir: Path
) -> None:
    # Scrapy's reactor cannot restart in a process: each crawl runs in a child process
    from agenda import wiring
    from agenda.settings import Settings
    from aggregator.schedule import HarvestScheduler

    sources = write_sources(
        tmp_path / "sources.yaml",
        [
            {
                "id": "ula",
                "name": "ULA",
                "kind": "jsonld",
                "region": "regio-utrecht",
                "url": str(sample_dir / "html/utrechtse-lerarenacademie-agenda.html"),
            },
        ],
    )
    config = config_for(sources)
    settings = Settings(HARVEST_CACHE_DIR=tmp_path / "cache")  # type: ignore[call-arg]
    scheduler = HarvestScheduler(
        engine=engine,
        config=config,
        pipeline=wiring.pipeline(settings, config),
        crawl_options=wiring.crawl_options(settings),
        make_fetcher=lambda: wiring.make_fetcher(settings),
        make_window=lambda now: wiring.harvest_window(settings, now),
    )
    first = scheduler.harvest_one(config.sources[0])
    second = scheduler.harvest_one(config.sources[0])
    assert (first.outcome, first.new) == ("success", 10)
    assert second.outcome == "unchanged"


CORPUS = {
    # file under tests/data: (kind, outcome, records seen, or the start of the error)
    "rss/rss2_ev_module_valid_all.xml": ("rss", "success", 1),
    "rss/gbase_rss2_events.xml": ("rss", "success", 2),
    "rss/craigslist_rss1_ev_ns_declared_no_events.rss": ("rss", "success", 0),
    "atom/gcal_atom_single_event_entry.xml": ("atom", "success", 1),
    # the 2007 series expand to nothing in a 2027 window: 3 all-day events and 1 exception
    "atom/gcal_atom_composite_feed_recurrence.xml": ("atom", "success", 4),
    "html/eventon_wordpress_broken_jsonld_dates.html": ("jsonld", "success", 9),
    "html/h-event_time_formats.html": ("jsonld", "success", 1),
    "html/schemaorg_event_microdata_aggregateoffer.html": ("jsonld", "success", 1),
    "html/schemaorg_event_microdata_offer.html": ("jsonld", "success", 1),
    "html/songkick_elysianfields_jsonld.html": ("jsonld", "success", 4),
    "html/songkick_event_page_owl_music_parlor_jsonld.html": ("jsonld", "success", 1),
    "html/the-events-calendar_month_embed_jsonld.html": ("jsonld", "success", 9),
    "html/upcoming_org_hcalendar_v1.html": ("jsonld", "success", 1),
    "html/songkick_jsonld_empty_item.html": ("jsonld", "failed", "no schema.org events"),
    "html/nl_den_helder_gemeenteraad_vergadering.html": (
        "jsonld",
        "failed",
        "no schema.org events",
    ),
    "html/nl_uitdatabank_calendar_summary_multiple_microdata.html": (
        "jsonld",
        "failed",
        "no schema.org events",
    ),
    "json/the-events-calendar_rest_v1_events_additional_fields.json": ("tribe", "success", 3),
    "json/meetup_api_event.json": ("tribe", "failed", "unsupported format: Meetup"),
    "json/eventon_ajax_events_embedded_microdata.json": (
        "tribe",
        "failed",
        "unsupported format: EventON",
    ),
    "json/nl_notubiz_meeting_amsterdam.json": ("tribe", "failed", "unsupported format: Notubiz"),
    "json/nl_notubiz_meeting_amsterdam_update1.json": (
        "tribe",
        "failed",
        "unsupported format: Notubiz",
    ),
    "json/nl_uitdatabank_offer_opening_hours.json": (
        "tribe",
        "failed",
        "unsupported format: UiTdatabank",
    ),
    "xml/nl_uitdatabank_cdbxml_eventlist.xml": ("rss", "failed", "unsupported format: UiTdatabank"),
}


def test_every_corpus_file_is_harvested_through_its_reader(engine: Engine, tmp_path: Path) -> None:
    data = Path(__file__).parent / "data"
    entries = [
        {
            "id": f"corpus-{n}",
            "name": name,
            "kind": kind,
            "url": str(data / name),
            "region": "landelijk",
        }
        for n, (name, (kind, _, _)) in enumerate(CORPUS.items())
    ]
    config = config_for(write_sources(tmp_path / "sources.yaml", entries))
    outcomes = _harvest(engine, config, tmp_path)
    for n, (name, (_, outcome, expected)) in enumerate(CORPUS.items()):
        got = outcomes[f"corpus-{n}"]
        assert got.outcome == outcome, (name, got.error)
        if outcome == "success":
            assert got.seen == expected, name
        else:
            assert str(expected) in (got.error or ""), (name, got.error)
