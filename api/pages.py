"""Public HTML pages: search (with map), event detail, region with subscription links."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from aggregator.coverage import upcoming_per_region
from aggregator.localtime import LOCAL_TZ, today_local
from aggregator.models import Event
from aggregator.query import EventPage, StoreSnapshot
from api.deps import ConfigDep, SnapshotDep, public_base_url
from api.error_pages import error_page, error_texts
from api.event_view import back_params, event_state, meta_description, more_like_this, route_url
from api.i18n import long_date, t
from api.params import build_filters
from api.routes_api import region_label
from api.search_form import SearchForm, active_filters, search_filters
from api.series import Entry, collapse, series_label
from api.web import lang_url, region_name, render, request_lang, script_json, term_label
from feeds.item_list import item_list_jsonld
from feeds.jsonld import event_jsonld
from feeds.location import location_text, place_lines
from feeds.registry import RenderContext, output_renderer

router = APIRouter(include_in_schema=False)

PER_PAGE = 25
SERIES_WINDOW = 500  # matches read at once so that series collapse across pages


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


def _entry_card(entry: Entry, page: EventPage, config: Any, lang: str) -> dict[str, Any]:
    """The card of one result entry: the event's facts, its distance, its series."""
    card = event_card(entry.first, config, lang)
    km = page.distances.get(entry.first.id)
    card["distance"] = ""
    if km is not None:
        number = f"{km:.1f}"
        card["distance"] = t(
            "distance_km", lang, km=number.replace(".", ",") if lang == "nl" else number
        )
    if entry.is_series:
        card["series"] = {
            "label": series_label(entry, lang),
            "dates": [(event_times(e, lang)["text"], e.id) for e in entry.events],
        }
    return card


def _search_entries(
    snapshot: StoreSnapshot, config: Any, form: SearchForm, lang: str
) -> tuple[EventPage, list[Entry], int]:
    """The entries of a search's page, its events and the number of pages.

    Up to SERIES_WINDOW matches are read at once, so that a series is one entry whatever
    page its occurrences fall on; a larger result is paged in SQL and series collapse
    within their page only.
    """
    filters = search_filters(config, form, lang, per_page=SERIES_WINDOW)
    window = snapshot.events(replace(filters, page=1), config.regions)
    if window.total <= SERIES_WINDOW:
        entries = collapse(window.items)
        pages = max(1, math.ceil(len(entries) / PER_PAGE))
        form.page = min(form.page, pages)
        first = (form.page - 1) * PER_PAGE
        return window, entries[first : first + PER_PAGE], pages
    pages = max(1, math.ceil(window.total / PER_PAGE))
    form.page = min(form.page, pages)
    result = snapshot.events(replace(filters, page=form.page, per_page=PER_PAGE), config.regions)
    return result, collapse(result.items), pages


def _page_number(raw: str, form: SearchForm, lang: str) -> int:
    try:
        number = int(raw) if raw else 1
    except ValueError:
        number = 0
    if not 1 <= number <= 10_000:
        form.errors["page"] = t("err_unknown_value", lang, value=raw[:20])
        return 1
    return number


@router.get("/")
def search_page(request: Request, snapshot: SnapshotDep, config: ConfigDep) -> Response:
    """The search page: every filter of the API, results grouped by day (series as one
    entry), distances, a map, a subscription link, and suggestions when nothing matches."""
    lang = request_lang(request)
    form = SearchForm.from_query(dict(request.query_params))
    form.page = _page_number(request.query_params.get("page", ""), form, lang)
    if "page" in form.errors:
        raise RequestValidationError(
            [{"loc": ("query", "page"), "msg": "not a page number", "type": "value_error"}]
        )
    result, entries, pages = _search_entries(snapshot, config, form, lang)
    total = result.total
    cards = [_entry_card(entry, result, config, lang) for entry in entries]
    shown = [entry.first for entry in entries]
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
    order = (
        form.sort if form.sort in ("relevance", "distance") and not form.errors.get("sort") else ""
    )
    order = order or ("relevance" if form.q else "date")
    by_date = order == "date"
    # every filter goes along: the calendar export takes the same filters as the search
    ics_params = {k: v for k, v in form.params().items() if k not in ("sort",)}
    search_query = urlencode(form.params(page=form.page if form.page > 1 else ""))
    return render(
        request,
        "search.html",
        form=form,
        groups=group_by_day(cards, lang) if by_date else [("", cards)] if cards else [],
        list_heading=t("results_in_order", lang, order=t(f"sort_{order}", lang).split(" (")[0]),
        total=total,
        page=form.page,
        pages=pages,
        chips=active_filters(form, config, lang),
        map_points=script_json(map_points),
        ics_query=urlencode(ics_params),
        back_query=urlencode({"terug": search_query}) if search_query else "",
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
        return error_page(request, 404, *error_texts(404, lang))
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
    now = datetime.now(UTC)
    state = event_state(event, now)
    when = event_times(event, lang)["text"]
    back = back_params(request.query_params.get("terug", ""))
    return render(
        request,
        "event.html",
        status_code=410 if removed else 200,
        event=event,
        state=state,
        card=event_card(event, config, lang),
        when=when,
        place_lines=place_lines(event),
        phases=[term_label(config, "phases", p, lang) for p in event.phases or []],
        audiences=[term_label(config, "audiences", a, lang) for a in event.audiences or []],
        sources=sources,
        links=calendar_links(event, page_url=page_url),
        jsonld=jsonld,
        page_url=page_url,
        canonical=f"{base}{lang_url(lang, '/events/' + event.id)}",
        description=meta_description(event, when),
        image_url=f"{base}/static/event-default.png",
        route=route_url(event),
        back=back,
        more=[event_card(e, config, lang) for e in more_like_this(snapshot, config, event)],
        map_points=script_json(
            [
                {
                    "id": event.id,
                    "title": event.title,
                    "lat": event.lat,
                    "lon": event.lon,
                    "when": when,
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
        return error_page(request, 404, *error_texts(404, lang))
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


@router.get("/manifest.webmanifest")
def web_manifest(request: Request) -> Response:
    """The web app manifest: name, colours and icon for a home screen or a bookmark."""
    lang = request_lang(request)
    manifest = {
        "name": t("site_name", lang),
        "short_name": t("site_name", lang),
        "description": t("tagline", lang),
        "lang": lang,
        "start_url": lang_url(lang, "/"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [
            {"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(
        script_json(manifest),
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )
