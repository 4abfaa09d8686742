"""The demo harvest, published: every format the service serves, as bytes, for the checks.

The demo is the bundled sample sources (``config/sources.yaml``) that need no Scrapy crawl
(the iCal and RSS ones: a crawl costs a child process and most of a minute), harvested at
``SAMPLE_NOW`` into a fresh SQLite file,
plus the publisher fixtures of ``tests/publishing_data.py`` (HTML descriptions with
newlines and commas, a cancelled, a removed, an all-day and an online event).

``python -m tests.validators.report`` prints the problems per validator and format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.config import load_config
from aggregator.db import make_engine, upgrade
from config import bundled
from tests.publishing_data import seed
from tests.web.conftest import harvest_samples

BASE_URL = "https://agenda.example"
FROM = {"from": "2027-01-01"}
DEMO_KINDS = ("ics", "rss")


@dataclass
class Published:
    """What the service published for the demo harvest."""

    client: TestClient
    event_ids: list[str]
    calendars: dict[str, bytes] = field(default_factory=dict)  # name -> iCalendar
    feeds: dict[str, bytes] = field(default_factory=dict)  # rss, atom, json
    jsonld: dict[str, dict] = field(default_factory=dict)  # type: ignore[type-arg]
    events: dict[str, dict] = field(default_factory=dict)  # type: ignore[type-arg]


def build(directory: Path) -> Published:
    """Harvest the demo into ``directory`` and fetch every published format."""
    url = f"sqlite:///{directory / 'demo.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    config = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))
    demo = config.model_copy(
        update={"sources": [s for s in config.sources if s.kind in DEMO_KINDS]}
    )
    harvest_samples(engine, demo)
    seed(engine)
    settings = Settings(AGENDA_BASE_URL=BASE_URL)  # type: ignore[call-arg]
    client = TestClient(create_app(settings=settings, config=config, engine=engine))
    listing = client.get("/api/events", params={**FROM, "per_page": 200}).json()
    ids = [item["id"] for item in listing["items"]]
    published = Published(client=client, event_ids=ids)
    published.calendars["calendar.ics"] = client.get("/calendar.ics", params=FROM).content
    published.calendars["regions/groningen.ics"] = client.get(
        "/regions/groningen.ics", params=FROM
    ).content
    removed = "ev-nijmegen-removed"
    for index, event_id in enumerate([*ids, removed]):
        # one-event downloads share the VEVENT code with the subscriptions: the fixtures'
        # edge cases and every fifth demo event are enough to check their calendar frame
        if event_id.startswith("ev-") or index % 5 == 0:
            published.calendars[f"events/{event_id}.ics"] = client.get(
                f"/events/{event_id}.ics"
            ).content
        published.jsonld[event_id] = client.get(f"/api/events/{event_id}/jsonld").json()
        published.events[event_id] = client.get(f"/api/events/{event_id}").json()
    for kind in ("rss", "atom", "json"):
        published.feeds[kind] = client.get(
            f"/feeds/events.{kind}", params={**FROM, "per_page": 200}
        ).content
    return published
