"""Shared machinery of the HTML pages: language prefix, templates and the page context."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import public_base_url
from api.i18n import LANGS, long_date, normalise_lang, t

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LANG_KEY = "agenda.lang"

PageContextHook = Callable[[Request], dict[str, Any]]
"""Adds to every page's context (the forms app adds the logged-in user and CSRF token)."""


class LanguagePrefixMiddleware:
    """Serve ``/en/...`` as the English version of ``/...``: strip the prefix, remember it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            lang = "nl"
            if path == "/en" or path.startswith("/en/"):
                lang = "en"
                scope = dict(scope)
                scope["path"] = path[3:] or "/"
                scope["raw_path"] = scope["path"].encode()
            scope[LANG_KEY] = lang
        await self.app(scope, receive, send)


def request_lang(request: Request) -> str:
    """The page language: from the /en prefix, else Dutch."""
    return normalise_lang(request.scope.get(LANG_KEY))


def lang_url(lang: str, path: str, params: dict[str, Any] | None = None) -> str:
    """A site-internal URL in ``lang`` (English pages live under /en)."""
    url = ("/en" + path if path != "/" else "/en/") if lang == "en" else path
    query = {k: v for k, v in (params or {}).items() if v not in (None, "", [])}
    if query:
        url += "?" + urlencode(query, doseq=True)
    return url


@cache
def make_templates() -> Jinja2Templates:
    """The Jinja environment of the pages (autoescaping on, as for every .html template).

    One per process: Jinja compiles each template once per environment, which costs about a
    second for all pages, and the environment holds nothing that differs between apps.
    """
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.globals["long_date"] = long_date
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    return templates


def add_templates(app: FastAPI, directory: Path) -> None:
    """Let the pages find templates in ``directory`` too (an app mounted on the publisher
    brings its own; they extend the publisher's ``base.html``)."""
    templates: Jinja2Templates = app.state.templates
    templates.env.loader = ChoiceLoader(
        [FileSystemLoader(str(directory)), templates.env.loader]  # type: ignore[list-item]
    )


def add_page_context(app: FastAPI, hook: PageContextHook) -> None:
    """Register ``hook``: what it returns goes into the context of every page."""
    app.state.page_context.append(hook)


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page with the shared context: language, strings, URLs, configuration, and
    what the registered page context hooks add (by default no user and no CSRF token)."""
    state = request.app.state
    templates: Jinja2Templates = state.templates
    lang = request_lang(request)
    other = "en" if lang == "nl" else "nl"
    here = request.url.path
    query = request.url.query
    site = public_base_url(request)
    suffix = f"?{query}" if query else ""
    base: dict[str, Any] = {
        "request": request,
        "base_url": site,
        # absolute: search engines ignore relative hreflang links
        "alternates": [
            (lang, site + lang_url(lang, here) + suffix),
            (other, site + lang_url(other, here) + suffix),
            ("x-default", site + lang_url("nl", here) + suffix),
        ],
        "lang": lang,
        "other_lang": other,
        "langs": LANGS,
        "switch_url": lang_url(other, here) + (f"?{query}" if query else ""),
        "t": lambda key, **p: t(key, lang, **p),
        "u": lambda path, **p: lang_url(lang, path, p),
        "user": None,
        "csrf_token": "",
        "site": state.publish,
        "config": state.config,
        "region_label": lambda slug: region_name(state.config, slug, lang),
    }
    for hook in state.page_context:
        base.update(hook(request))
    base.update(context)
    return templates.TemplateResponse(request, template, base, status_code=status_code)


def script_json(value: Any) -> str:
    """JSON to put inside a <script> element: no '<' can end the element early."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def term_label(config: Any, field: str, slug: str | None, lang: str) -> str:
    """The Dutch or English label of a taxonomy slug (the slug itself when unknown)."""
    if not slug:
        return ""
    for term in getattr(config.taxonomy, field):
        if term.slug == slug:
            return term.en if lang == "en" else term.nl
    return slug


def region_name(config: Any, slug: str | None, lang: str) -> str:
    """The name of a region in ``lang`` (English name when the config has one)."""
    if not slug or slug not in config.regions:
        return slug or ""
    region = config.regions.by_slug[slug]
    return (region.name_en or region.name) if lang == "en" else region.name
