"""Embedding for regional sites: the widget script, an iframe list, and a snippet builder."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from aggregator.localtime import today_local
from api.deps import ConfigDep, SnapshotDep, public_base_url
from api.embed_options import MAX_LIMIT, EmbedOptions, read_embed_options
from api.embed_snippets import iframe_snippet, iframe_src, script_snippet
from api.i18n import STRINGS
from api.pages import event_card, group_by_day
from api.params import build_filters
from api.web import render, request_lang, script_json

router = APIRouter(include_in_schema=False)
WIDGET_KEYS = ("embed_loading", "embed_error", "embed_none", "embed_heading", "embed_more")
FRAME_TITLE = "Overstap Agenda"


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


def _theme(options: EmbedOptions) -> str:
    """The list's colours as CSS custom properties (checked hex values only)."""
    return (
        f"--brand:{options.color};--brand-dark:{options.color};--bg:{options.background};"
        f"--ink:{options.text_color};--muted:{options.muted_color}"
    )


@router.get("/embed/list")
def embed_list(request: Request, snapshot: SnapshotDep, config: ConfigDep) -> Response:
    """The iframe variant: a bare list page (no header), links open in the top window.

    A parameter it cannot take answers 422 with a short page inside the iframe that names
    the parameter and why, in the list's language.
    """
    asked = request.query_params.get("lang", "")
    lang = asked if asked in ("nl", "en") else request_lang(request)
    request.scope["agenda.lang"] = lang
    reading = read_embed_options(request.query_params, config=config, lang=lang)
    options = reading.options
    if not reading.ok:
        return render(
            request,
            "embed_error.html",
            status_code=422,
            errors=reading.errors,
            options=options,
            theme=_theme(options),
        )
    filters = build_filters(
        config,
        date_from=today_local(),
        region=[options.region] if options.region else None,
        sector=[options.sector] if options.sector else None,
        type_=[options.type] if options.type else None,
        sort="date",
        per_page=options.limit,
    )
    page = snapshot.events(filters, config.regions)
    cards = [event_card(e, config, lang) for e in page.items]
    return render(
        request,
        "embed_list.html",
        groups=group_by_day(cards, lang),
        options=options,
        theme=_theme(options),
    )


@router.get("/embed")
def embed_builder(request: Request, config: ConfigDep) -> Response:
    """Choose filters and a theme; get the script and iframe snippets with copy buttons and
    a live preview (``/static/embed-builder.js`` updates both as the options change)."""
    lang = request_lang(request)
    params = dict(request.query_params)
    # the builder's form calls the widget's language "taal" (the page has its own "lang")
    params["lang"] = params.pop("taal", "") or params.get("lang", "")
    reading = read_embed_options(params, config=config, lang=lang)
    options = reading.options
    base_url = public_base_url(request)
    return render(
        request,
        "embed_builder.html",
        options=options,
        errors=reading.errors,
        max_limit=MAX_LIMIT,
        base_url=base_url,
        frame_title=FRAME_TITLE,
        script_snippet=script_snippet(base_url, options),
        iframe_snippet=iframe_snippet(base_url, options, title=FRAME_TITLE),
        preview_src=iframe_src("", options),
    )
