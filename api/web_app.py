"""Mount the web side onto the app: pages, accounts, submissions, moderation, embed, static."""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from aggregator.settings import Settings
from api import auth, embed, moderation, pages, submit
from api.web import STATIC_DIR, LanguagePrefixMiddleware, make_templates

log = logging.getLogger(__name__)
SESSION_COOKIE = "agenda_session"


def install_web(app: FastAPI, *, settings: Settings) -> None:
    """Add the session and language middleware, the static files and the page routers."""
    secret = settings.web_secret_key
    if not secret:
        log.warning("WEB_SECRET_KEY is not set: sessions end when the process restarts")
        secret = secrets.token_urlsafe(32)
    app.state.templates = make_templates()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=12 * 3600,
        same_site="lax",
        https_only=settings.web_cookie_secure,
    )
    # added last, so it runs first: routing and the session see the path without /en
    app.add_middleware(LanguagePrefixMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(auth.LoginRequired, auth.login_redirect)  # type: ignore[arg-type]
    for module in (auth, submit, moderation, embed, pages):
        app.include_router(module.router)
