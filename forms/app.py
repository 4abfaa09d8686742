"""Mount the forms app onto the publisher's app: sessions, login, forms, moderation."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from aggregator.pipeline import Pipeline
from api.web import add_page_context, add_templates
from forms import auth, dashboard, interest, moderation, password, ping, submit, users, websub
from forms.options import FormsOptions

log = logging.getLogger(__name__)
SESSION_COOKIE = "agenda_session"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def install_forms(app: FastAPI, *, options: FormsOptions, pipeline: Pipeline) -> None:
    """Add the session cookie, the forms' templates and routes, and the login state of
    every page (a page context hook) to an app made by ``api.app.create_app``.

    ``pipeline`` publishes approved submissions (the harvest's own stages).
    """
    secret = options.secret_key
    if not secret:
        log.warning("WEB_SECRET_KEY is not set: sessions end when the process restarts")
        secret = secrets.token_urlsafe(32)
    app.state.forms = options
    app.state.forms_secret = secret  # signs sessions and kept form drafts
    app.state.pipeline = pipeline
    add_templates(app, TEMPLATES_DIR)
    add_page_context(app, auth.page_context)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=12 * 3600,
        same_site="lax",
        https_only=options.cookie_secure,
    )
    app.add_exception_handler(auth.LoginRequired, auth.login_redirect)  # type: ignore[arg-type]
    for module in (auth, dashboard, password, submit, users, moderation, interest, ping, websub):
        app.include_router(module.router)
