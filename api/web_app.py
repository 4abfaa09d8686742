"""Mount the web side of the publisher onto the app: pages, embed, static files, errors."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import embed, pages, source_pages
from api.error_pages import html_errors, invalid_page, server_error
from api.error_pages import invalid_fields as invalid_fields  # re-exported for api.app
from api.web import STATIC_DIR, LanguagePrefixMiddleware, make_templates


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


def install_web(app: FastAPI) -> None:
    """Add the language middleware, the templates, the static files and the page routers."""
    app.state.templates = make_templates()
    app.state.page_context = []
    app.add_middleware(LanguagePrefixMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(StarletteHTTPException, html_errors)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_page)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, server_error)
    app.add_middleware(SecurityHeadersMiddleware, tile_url=app.state.publish.tile_url)
    for module in (embed, pages, source_pages):
        app.include_router(module.router)
