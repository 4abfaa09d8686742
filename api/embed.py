"""Embedding for regional sites: the widget script, an iframe list, and a snippet builder."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from aggregator.localtime import today_local
from api.deps import ConfigDep, SnapshotDep, public_base_url
from api.i18n import STRINGS, normalise_lang
from api.pages import event_card, group_by_day
from api.params import build_filters
from api.web import render, request_lang, script_json

router = APIRouter(include_in_schema=False)
WIDGET_KEYS = ("embed_loading", "embed_error", "embed_none", "embed_heading", "embed_more")


@router.get("/embed.js")
def embed_script(request: Request) -> Response:
    """The widget: a custom element with shadow DOM that lists events from /api/events."""
    strings = {key: {"nl": STRINGS[key][0], "en": STRINGS[key][1]} for key in WIDGET_KEYS}
    body = request.app.state.templates.get_template("embed.js").render(strings=script_json(strings))
    return Response(
        body,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
    )


def _widget_params(config: Any, region: str, sector: str, type_: str, limit: int) -> dict:
    return {
        "region": region if region in config.regions else "",
        "sector": sector if sector in config.taxonomy.slugs("sectors") else "",
        "type": type_ if type_ in config.taxonomy.slugs("activity_types") else "",
        "limit": max(1, min(limit, 50)),
    }


@router.get("/embed/list")
def embed_list(
    request: Request,
    snapshot: SnapshotDep,
    config: ConfigDep,
    region: str = "",
    sector: str = "",
    type: str = "",
    lang: str = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """The iframe variant: a bare list page (no header), links open in the top window."""
    lang = normalise_lang(lang or request_lang(request))
    params = _widget_params(config, region, sector, type, limit)
    filters = build_filters(
        config,
        date_from=today_local(),
        region=[params["region"]] if params["region"] else None,
        sector=[params["sector"]] if params["sector"] else None,
        type_=[params["type"]] if params["type"] else None,
        sort="date",
        per_page=params["limit"],
    )
    page = snapshot.events(filters, config.regions)
    cards = [event_card(e, config, lang) for e in page.items]
    request.scope["agenda.lang"] = lang
    return render(
        request, "embed_list.html", groups=group_by_day(cards, lang), params=params, lang=lang
    )


@router.get("/embed")
def embed_builder(
    request: Request,
    config: ConfigDep,
    region: str = "",
    sector: str = "",
    type: str = "",
    widget_lang: Annotated[str, Query(alias="taal")] = "nl",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """Choose filters; get the script and iframe snippets and a live preview."""
    params = _widget_params(config, region, sector, type, limit)
    widget_lang = normalise_lang(widget_lang)
    query = {name: params[name] for name in ("region", "sector", "type", "limit") if params[name]}
    if widget_lang == "en":
        query["lang"] = widget_lang
    return render(
        request,
        "embed_builder.html",
        params=params,
        widget_lang=widget_lang,
        base_url=public_base_url(request),
        list_query=urlencode(query),
    )
