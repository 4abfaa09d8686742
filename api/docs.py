"""Swagger UI (/docs) and ReDoc (/redoc) from files shipped with the package, so the API
documentation works without internet and passes the same accessibility audit as the site.

The viewers' assets come from the ``fastapi-offline`` wheel (Swagger UI's bundle and CSS,
ReDoc's standalone script). The page around them is ours (``templates/docs.html``): it
names its language, starts each viewer from a script file of ours (``static/docs-*.js``:
no inline script, so the site's Content-Security-Policy holds unchanged) with settings
that keep the viewer accessible, and adds ``static/docs.css`` for WCAG AA contrast. ReDoc
may also start its search worker from a ``blob:`` URL.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.web import make_templates
from api.web_app import content_security_policy

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs/assets"


def docs_policy(tile_url: str, *, blob_workers: bool = False) -> str:
    """The site's CSP, with web workers from ``blob:`` URLs if asked (ReDoc's search index)."""
    policy = content_security_policy(tile_url, frameable=False)
    return policy + "; worker-src 'self' blob:" if blob_workers else policy


def docs_page(viewer: str, *, title: str, openapi_url: str) -> str:
    """The HTML of one documentation page: ``viewer`` is ``swagger`` or ``redoc``."""
    template = make_templates().get_template("docs.html")
    return template.render(viewer=viewer, title=title, openapi_url=openapi_url, assets=ASSETS_URL)


def install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from local assets; the app must be built with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN-backed pages are not registered."""
    tile_url = app.state.publish.tile_url
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    swagger = docs_page("swagger", title=f"{app.title} - Swagger UI", openapi_url=openapi_url)
    redoc = docs_page("redoc", title=f"{app.title} - ReDoc", openapi_url=openapi_url)
    redoc_headers = {"Content-Security-Policy": docs_policy(tile_url, blob_workers=True)}

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        """Swagger UI for the OpenAPI document, all assets local."""
        return HTMLResponse(swagger)  # the site's own CSP, set by its middleware

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        """ReDoc for the OpenAPI document, all assets local."""
        return HTMLResponse(redoc, headers=redoc_headers)
