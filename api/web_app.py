"""Mount the web side of the publisher onto the app: pages, embed, static files, errors."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import embed, pages, source_pages
from api.i18n import t
from api.web import STATIC_DIR, LanguagePrefixMiddleware, make_templates, render, request_lang

# Paths whose errors stay JSON for every client (the API and the feeds).
_MACHINE_PREFIXES = (
    "/api/",
    "/calendar.ics",
    "/regions/",
    "/feeds/",
    "/data/",
    "/healthz",
    "/metrics",
)


def content_security_policy(tile_url: str, *, frameable: bool) -> str:
    """The CSP of every response: script only from our own files, never inline or foreign.

    JSON data in ``<script type="application/json">`` is not script and needs no source.
    Images may come from the map tile server (``WEB_TILE_URL``); styles may be inline
    (Leaflet and the widget's shadow DOM set them). Only the iframe list may be framed
    elsewhere.
    """
    parts = urlsplit(tile_url)
    tiles = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"img-src 'self' data: {tiles}".rstrip(),
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self'",
        "frame-src 'self'",
        "frame-ancestors *" if frameable else "frame-ancestors 'self'",
    ]
    return "; ".join(directives)


class SecurityHeadersMiddleware:
    """Headers for every response: the CSP; pages other than the iframe list may not be framed."""

    def __init__(self, app: ASGIApp, tile_url: str = "") -> None:
        self.app = app
        self._policies = {
            frameable: content_security_policy(tile_url, frameable=frameable)
            for frameable in (False, True)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        frameable = scope["path"].startswith("/embed/list")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("Content-Security-Policy", self._policies[frameable])
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _html_errors(request: Request, exc: StarletteHTTPException) -> Response:
    """Browsers get an error page in their language; the API and feeds keep JSON."""
    wants_html = "text/html" in request.headers.get("accept", "")
    if not wants_html or request.url.path.startswith(_MACHINE_PREFIXES):
        return await http_exception_handler(request, exc)
    lang = request_lang(request)
    if exc.status_code == 404:
        heading, message = t("not_found", lang), t("not_found_text", lang)
    else:
        heading, message = t("error_title", lang), str(exc.detail)
    return render(
        request, "error.html", status_code=exc.status_code, heading=heading, message=message
    )


def invalid_fields(exc: RequestValidationError) -> str:
    """The request fields a validation error names, each with pydantic's reason."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
        problems.append(f"{where}: {error.get('msg')}")
    return "; ".join(problems)


async def _invalid_page(request: Request, exc: RequestValidationError) -> Response:
    """A page or the embed asked with a value it cannot take: a 422 page in the visitor's
    language naming the fields (inside a regional site's iframe too); the API and the
    feeds keep their JSON body."""
    if request.url.path.startswith(_MACHINE_PREFIXES):
        return JSONResponse(
            status_code=422, content={"detail": "invalid request: " + invalid_fields(exc)}
        )
    lang = request_lang(request)
    fields = sorted(
        {
            ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
            for error in exc.errors()
        }
    )
    return render(
        request,
        "error.html",
        status_code=422,
        heading=t("error_title", lang),
        message=t("invalid_values", lang, fields=", ".join(fields)),
    )


def install_web(app: FastAPI) -> None:
    """Add the language middleware, the templates, the static files and the page routers."""
    app.state.templates = make_templates()
    app.state.page_context = []
    app.add_middleware(LanguagePrefixMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(StarletteHTTPException, _html_errors)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_page)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeadersMiddleware, tile_url=app.state.publish.tile_url)
    for module in (embed, pages, source_pages):
        app.include_router(module.router)
