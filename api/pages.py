"""Public HTML pages: search (with map), event detail, region with subscription links."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from aggregator.coverage import upcoming_per_region
from aggregator.localtime import LOCAL_TZ, today_local
from aggregator.models import Event
from aggregator.proximity import AmbiguousNear, NearError, parse_near
from aggregator.query import EventFilters, EventPage, StoreSnapshot
from api.deps import ConfigDep, SnapshotDep, public_base_url
from api.i18n import long_date, t
from api.params import DEFAULT_KM, EARLIEST, LATEST, MAX_KM, FilterProblem, build_filters
from api.routes_api import region_label
from api.web import region_name, render, request_lang, script_json, term_label
from feeds.item_list import item_list_jsonld
from feeds.jsonld import event_jsonld
from feeds.location import location_text, place_lines
from feeds.registry import RenderContext, output_renderer

router = APIRouter(include_in_schema=False)

PER_PAGE = 25


@dataclass(slots=True)
class SearchForm:
    """The search page's filters as typed (strings kept, so the form shows them back)."""

    q: str = ""
    region: str = ""
    sector: str = ""
    type: str = ""
    date_from: str = ""
    date_to: str = ""
    near: str = ""
    km: str = "25"
    plus_online: bool = False
    page: int = 1
    notices: list[str] = field(default_factory=list)

    def params(self, **override: Any) -> dict[str, Any]:
        """The query parameters of this search (for links: pages, language, subscriptions)."""
        values = {
            "q": self.q,
            "region": self.region,
            "sector": self.sector,
            "type": self.type,
            "from": self.date_from,
            "to": self.date_to,
            "near": self.near,
            "km": self.km if self.near else "",
            "plus_online": "true" if self.near and self.plus_online else "",
        }
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def event_times(event: Event, lang: str) -> dict[str, Any]:
    """Display facts about when an event is: its local day, a time range, a long text."""
    if event.all_day and event.start_date:
        day = event.start_date
        last = (event.end_date - timedelta(days=1)) if event.end_date else day
        text = long_date(day, lang)
        if last > day:
            text += " – " + long_date(last, lang)
        return {"day": day, "time": t("all_day", lang), "text": text}
    start = event.start_at.astimezone(LOCAL_TZ)
    end = event.end_at.astimezone(LOCAL_TZ) if event.end_at else None
    time_text = f"{start:%H:%M}"
    if end and end.date() == start.date():
        time_text += f" – {end:%H:%M}"
    text = f"{long_date(start, lang)}, {time_text}"
    if end and end.date() != start.date():
        text = f"{long_date(start, lang)} {start:%H:%M} – {long_date(end, lang)} {end:%H:%M}"
    return {"day": start.date(), "time": time_text, "text": text}


def event_card(event: Event, config: Any, lang: str) -> dict[str, Any]:
    """The facts a result list shows for one event."""
    times = event_times(event, lang)
    place = event.location_name or event.city
    if place and event.city and event.city.lower() not in place.lower():
        place = f"{place}, {event.city}"
    if event.attendance == "online":
        place = t("online", lang)
    return {
        "id": event.id,
        "title": event.title,
        "day": times["day"],
        "time": times["time"],
        "place": place,
        "status": event.status,
        "attendance": event.attendance,
        "type": term_label(config, "activity_types", event.activity_type, lang),
        "sectors": [term_label(config, "sectors", s, lang) for s in event.sectors or []],
        "region": region_name(config, event.region, lang),
        "is_free": event.is_free,
        "lat": event.lat,
        "lon": event.lon,
    }


def group_by_day(cards: list[dict[str, Any]], lang: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Cards grouped under their (local) day, in order."""
    groups: dict[date, list[dict[str, Any]]] = {}
    for card in cards:
        groups.setdefault(card["day"], []).append(card)
    return [(long_date(day, lang), items) for day, items in groups.items()]


def _one(value: str) -> list[str] | None:
    return [value] if value else None


def _near_notice(near: str, lang: str) -> str:
    """The notice for a near value that cannot be used: the candidates of an ambiguous name."""
    try:
        parse_near(near)
    except AmbiguousNear as exc:
        return t("near_ambiguous", lang, near=near, candidates="; ".join(exc.candidates))
    except NearError:
        pass
    return t("near_unknown", lang, near=near)


def search_filters(config: Any, form: SearchForm, lang: str, *, per_page: int) -> EventFilters:
    """The search form's filters (``api.params``, leniently: what cannot be used is left
    out; an unknown place becomes a notice). Upcoming events unless 'from' is given."""
    try:
        radius = max(1.0, min(float(form.km or DEFAULT_KM), MAX_KM))
    except ValueError:
        radius = DEFAULT_KM
    problems: list[FilterProblem] = []
    filters = build_filters(
        config,
        q=form.q or None,
        date_from=_parse_day(form.date_from),
        date_to=_parse_day(form.date_to),
        region=_one(form.region),
        sector=_one(form.sector),
        type_=_one(form.type),
        near=form.near or None,
        km=radius if form.near else None,
        plus_online=form.plus_online,
        sort="date",
        page=form.page,
        per_page=per_page,
        lenient=True,
        problems=problems,
    )
    if any(problem.name == "near" for problem in problems):
        form.notices.append(_near_notice(form.near, lang))
    for problem in problems:
        if problem.name in ("from", "to"):  # a day the query cannot hold: left out, said why
            value = form.date_from if problem.name == "from" else form.date_to
            form.notices.append(
                t("date_out_of_range", lang, value=value, earliest=EARLIEST, latest=LATEST)
            )
    if filters.date_from is None:
        start = today_local()
        end = filters.date_to if filters.date_to and filters.date_to >= start else None
        filters = replace(filters, date_from=start, date_to=end)
    return filters


def _search(snapshot: StoreSnapshot, config: Any, form: SearchForm, lang: str) -> EventPage:
    """One page of the events of a search, from the shared query (filters in SQL)."""
    filters = search_filters(config, form, lang, per_page=PER_PAGE)
    return snapshot.events(filters, config.regions)


@router.get("/")
def search_page(
    request: Request,
    snapshot: SnapshotDep,
    config: ConfigDep,
    q: str = "",
    region: str = "",
    sector: str = "",
    type: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    near: str = "",
    km: str = "25",
    plus_online: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The search page: filters, results grouped by day, a map, and a subscription link."""
    lang = request_lang(request)
    form = SearchForm(
        q=q.strip(),
        region=region,
        sector=sector,
        type=type,
        date_from=date_from,
        date_to=date_to,
        near=near.strip(),
        km=km,
        plus_online=plus_online,
        page=page,
    )
    result = _search(snapshot, config, form, lang)
    total = result.total
    pages = max(1, math.ceil(total / PER_PAGE))
    if page > pages:
        form.page = page = pages
        result = _search(snapshot, config, form, lang)
    shown = result.items
    cards = [event_card(e, config, lang) for e in shown]
    map_points = [
        {
            "id": e.id,
            "title": e.title,
            "lat": e.lat,
            "lon": e.lon,
            "when": event_times(e, lang)["text"],
        }
        for e in shown
        if e.lat is not None and e.lon is not None
    ]
    # every filter goes along: the calendar export takes the same filters as the search
    ics_params = form.params()
    return render(
        request,
        "search.html",
        form=form,
        groups=group_by_day(cards, lang),
        total=total,
        page=page,
        pages=pages,
        map_points=script_json(map_points),
        ics_query=urlencode(ics_params),
        item_list=_item_list(request, shown, t("search_title", lang)),
    )


def _item_list(request: Request, events: list[Event], name: str) -> str | None:
    """The schema.org ItemList of the events a list page shows (none when it shows none)."""
    if not events:
        return None
    base = public_base_url(request)
    return script_json(item_list_jsonld((e.id for e in events), base_url=base, name=name))


@router.get("/events/{event_id}.ics")
def event_ics(event_id: str, request: Request, snapshot: SnapshotDep) -> Response:
    """One event as an .ics file to open in any calendar app."""
    page = snapshot.event(event_id)
    if page is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    renderer = output_renderer("ics")
    context = RenderContext(
        base_url=public_base_url(request), description=page.items[0].title, subscription=False
    )
    return Response(
        renderer.render(page, context),
        media_type=renderer.media_type,
        headers={"Content-Disposition": f'attachment; filename="{event_id}.ics"'},
    )


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def calendar_links(event: Event, *, page_url: str) -> dict[str, str]:
    """'Add to calendar' links for Google Calendar and Outlook on the web."""
    place = location_text(event)
    details = (event.description or "")[:1000] + f"\n\n{page_url}"
    if event.all_day and event.start_date:
        end_day = event.end_date or event.start_date + timedelta(days=1)
        google_dates = f"{event.start_date:%Y%m%d}/{end_day:%Y%m%d}"
        outlook_start, outlook_end = event.start_date.isoformat(), end_day.isoformat()
        all_day = "true"
    else:
        end = event.end_at or event.start_at + timedelta(hours=1)
        google_dates = f"{_utc_stamp(event.start_at)}/{_utc_stamp(end)}"
        outlook_start = event.start_at.astimezone(LOCAL_TZ).isoformat()
        outlook_end = end.astimezone(LOCAL_TZ).isoformat()
        all_day = "false"
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": event.title,
            "dates": google_dates,
            "details": details,
            "location": place,
            "ctz": "Europe/Amsterdam",
        }
    )
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": event.title,
            "startdt": outlook_start,
            "enddt": outlook_end,
            "allday": all_day,
            "body": details,
            "location": place,
        }
    )
    return {"google": google, "outlook": outlook}


@router.get("/events/{event_id}")
def event_page(
    event_id: str, request: Request, snapshot: SnapshotDep, config: ConfigDep
) -> Response:
    """Everything about one event: facts, sources, registration and calendar links."""
    lang = request_lang(request)
    page = snapshot.event(event_id)
    if page is None:
        return render(request, "not_found.html", status_code=404)
    event = page.items[0]
    base = public_base_url(request)
    page_url = f"{base}/events/{event.id}"
    records = page.records.get(event.id, [])
    sources = [
        {
            "name": page.sources[r.source_id].name if r.source_id in page.sources else r.source_id,
            "url": r.url,
            "title": r.title,
            "updated": long_date(r.harvested_at.astimezone(LOCAL_TZ), lang),
        }
        for r in records
    ]
    # A removed event's page says so and answers 410 Gone, without structured data, so
    # that search engines drop it instead of listing it as a live event.
    removed = event.removed_at is not None
    jsonld = (
        None
        if removed
        else script_json(
            event_jsonld(
                event,
                records,
                page.sources,
                base_url=base,
                region_label=region_label(config, event.region),
            )
        )
    )
    return render(
        request,
        "event.html",
        status_code=410 if removed else 200,
        event=event,
        card=event_card(event, config, lang),
        when=event_times(event, lang)["text"],
        place_lines=place_lines(event),
        phases=[term_label(config, "phases", p, lang) for p in event.phases or []],
        audiences=[term_label(config, "audiences", a, lang) for a in event.audiences or []],
        sources=sources,
        links=calendar_links(event, page_url=page_url),
        jsonld=jsonld,
        map_points=script_json(
            [
                {
                    "id": event.id,
                    "title": event.title,
                    "lat": event.lat,
                    "lon": event.lon,
                    "when": event_times(event, lang)["text"],
                }
            ]
        )
        if event.lat is not None and event.lon is not None and event.attendance != "online"
        else None,
    )


@router.get("/regio")
def regions_page(request: Request, snapshot: SnapshotDep, config: ConfigDep) -> Response:
    """Every region with its number of upcoming events, its own page and subscription."""
    lang = request_lang(request)
    counts = upcoming_per_region(
        session=snapshot.session, regions=config.regions, since=today_local()
    )
    regions = sorted(
        ((r.slug, region_name(config, r.slug, lang), counts[r.slug]) for r in config.regions),
        key=lambda row: (row[0] != "landelijk", row[1].casefold()),
    )
    return render(request, "regions.html", regions=regions)


def region_feed_links(slug: str, base: str) -> list[tuple[str, str]]:
    """Every format of one region's events: (label key of api.i18n, absolute URL)."""
    query = urlencode({"region": slug})
    return [
        ("feed_ics", f"{base}/regions/{slug}.ics"),
        ("feed_rss", f"{base}/feeds/events.rss?{query}"),
        ("feed_atom", f"{base}/feeds/events.atom?{query}"),
        ("feed_jsonfeed", f"{base}/feeds/events.json?{query}"),
        ("feed_api", f"{base}/api/events?{query}"),
        ("feed_csv", f"{base}/data/events.csv?{query}"),
    ]


@router.get("/regio/{slug}")
def region_page(slug: str, request: Request, snapshot: SnapshotDep, config: ConfigDep) -> Response:
    """One region: its upcoming events and how to subscribe to them in a calendar app."""
    lang = request_lang(request)
    if slug not in config.regions:
        return render(request, "not_found.html", status_code=404)
    filters = build_filters(config, date_from=today_local(), region=[slug], per_page=100)
    page = snapshot.events(filters, config.regions)
    cards = [event_card(e, config, lang) for e in page.items]
    name = region_name(config, slug, lang)
    base = public_base_url(request)
    https_url = f"{base}/regions/{slug}.ics"
    webcal_url = re.sub(r"^https?://", "webcal://", https_url)
    return render(
        request,
        "region.html",
        slug=slug,
        name=name,
        groups=group_by_day(cards, lang),
        total=page.total,
        https_url=https_url,
        webcal_url=webcal_url,
        feed_links=region_feed_links(slug, base),
        coverage_url=("/en/coverage" if lang == "en" else "/dekking")
        + "?"
        + urlencode({"region": slug}),
        item_list=_item_list(request, page.items, t("region_title", lang, region=name)),
    )
