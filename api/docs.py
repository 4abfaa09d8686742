"""Swagger UI (/docs) and ReDoc (/redoc) from files shipped with the package, so the API
documentation works without internet.

The assets come from the ``fastapi-offline`` wheel (Swagger UI's bundle and CSS, ReDoc's
standalone script, FastAPI's favicon); the pages are FastAPI's own
(``get_swagger_ui_html``, ``get_redoc_html``) pointed at those files. Swagger UI starts
from one inline script; the page's Content-Security-Policy allows exactly that script by
its SHA-256 hash and nothing else inline; ReDoc may start its search worker from a
``blob:`` URL.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.web_app import content_security_policy

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def inline_script_sources(html: str) -> list[str]:
    """CSP sources (``'sha256-…'``) for each inline ``<script>`` of a page."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def docs_policy(tile_url: str, html: str, *, blob_workers: bool = False) -> str:
    """The site's CSP, with the page's own inline scripts allowed by hash and, if asked,
    web workers the page's script makes from ``blob:`` URLs (ReDoc's search index)."""
    policy = content_security_policy(tile_url, frameable=False)
    hashes = " ".join(inline_script_sources(html))
    if hashes:
        policy = policy.replace("script-src 'self'", f"script-src 'self' {hashes}", 1)
    if blob_workers:
        policy += "; worker-src 'self' blob:"
    return policy


def _page(
    html: HTMLResponse, tile_url: str, *, blob_workers: bool = False
) -> tuple[str, dict[str, str]]:
    """A fixed docs page's body and its CSP header (the security middleware keeps it)."""
    body = bytes(html.body).decode()
    policy = docs_policy(tile_url, body, blob_workers=blob_workers)
    return body, {"Content-Security-Policy": policy}


def install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from local assets; the app must be built with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN-backed pages are not registered."""
    tile_url = app.state.publish.tile_url
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    swagger = _page(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            # no badge from validator.swagger.io: nothing leaves the machine
            swagger_ui_parameters={"validatorUrl": None},
        ),
        tile_url,
    )
    redoc = _page(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        ),
        tile_url,
        blob_workers=True,
    )

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        """Swagger UI for the OpenAPI document, all assets local."""
        return HTMLResponse(swagger[0], headers=swagger[1])

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        """ReDoc for the OpenAPI document, all assets local."""
        return HTMLResponse(redoc[0], headers=redoc[1])
