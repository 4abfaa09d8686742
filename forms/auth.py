"""Login, logout, the current user and CSRF protection for every form (session cookie)."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from aggregator.accounts import end_sessions, log_in
from aggregator.db import session_scope
from aggregator.models import User
from aggregator.submissions import RateLimit, RateLimited
from api.i18n import t
from api.web import lang_url, render, request_lang
from forms.drafts import form_page_of, open_draft, seal_draft
from forms.web import client_address

router = APIRouter(include_in_schema=False)
LOGIN_LIMIT = RateLimit(limit=10, window=timedelta(minutes=15))  # per client address
SESSION_USER = "user_id"
SESSION_CSRF = "csrf"
SESSION_VERSION = "uv"


def csrf_token(request: Request) -> str:
    """The CSRF token of this session, created on first use."""
    if "session" not in request.scope:
        return ""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


async def csrf_valid(request: Request) -> bool:
    """Whether the posted form carries this session's CSRF token."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not expected or not isinstance(sent, str):
        return False
    return hmac.compare_digest(sent, expected)


async def check_csrf(request: Request) -> None:
    """Refuse a POST whose form does not carry this session's CSRF token (403)."""
    if not await csrf_valid(request):
        raise HTTPException(403, t("csrf_failed", request_lang(request)))


CsrfChecked = Depends(check_csrf)
CsrfValid = Annotated[bool, Depends(csrf_valid)]
"""For forms that keep what was typed when the session has gone: the handler decides."""


class LazyToken:
    """The CSRF token, created only when a page prints it (pages without forms set no cookie)."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def __str__(self) -> str:
        return csrf_token(self._request)

    def __html__(self) -> str:
        return str(self)  # URL-safe base64: nothing to escape


def page_context(request: Request) -> dict[str, Any]:
    """What every page shows of the session: the logged-in user and the CSRF token
    (registered with ``api.web.add_page_context`` when the forms app is installed)."""
    return {"user": current_user(request), "csrf_token": LazyToken(request)}


def current_user(request: Request) -> User | None:
    """The logged-in, active user of this request, or None (cached on the request)."""
    if "session" not in request.scope:
        return None
    if "agenda.user" in request.scope:
        return request.scope["agenda.user"]
    user = None
    user_id = request.session.get(SESSION_USER)
    if isinstance(user_id, int):
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            found = session.get(User, user_id)
            current = request.session.get(SESSION_VERSION)
            if found is not None and found.active and current == found.session_version:
                user = found
    request.scope["agenda.user"] = user
    return user


class LoginRequired(Exception):
    """Raised by ``require_moderator``; the app turns it into a redirect to the login page
    (or, for a posted form, the login page itself carrying the form as a signed draft)."""

    def __init__(self, next_url: str, draft: str | None = None) -> None:
        self.next_url = next_url
        self.draft = draft


def require_user(request: Request) -> User:
    """The logged-in user of any role; anonymous visitors are sent to the login page."""
    user = current_user(request)
    if user is None:
        raise LoginRequired(str(request.url.path))
    return user


UserDep = Annotated[User, Depends(require_user)]


def require_moderator(request: Request) -> User:
    """The logged-in admin or region editor; others are sent to the login page."""
    user = require_user(request)
    if user.role not in ("admin", "editor"):
        raise HTTPException(403, "moderation is for admins and region editors")
    return user


ModeratorDep = Annotated[User, Depends(require_moderator)]


def _same_origin(request: Request) -> bool:
    """Whether a post came from a page of this site (browsers say so in their headers)."""
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == str(request.base_url).rstrip("/")


async def require_moderator_post(request: Request) -> User:
    """For a moderator's form: the login first, then the CSRF token.

    Without a valid login (the session expired, or ended elsewhere) what was posted is
    not lost: the login page carries it as a signed draft back to the form.
    """
    user = current_user(request)
    if user is None:
        form = await request.form()
        page = form_page_of(request.url.path)
        draft = None
        if _same_origin(request):
            draft = seal_draft(request.app.state.forms_secret, page=page, form=form)
        raise LoginRequired(page, draft=draft)
    if not await csrf_valid(request):
        raise HTTPException(403, t("csrf_failed", request_lang(request)))
    if user.role not in ("admin", "editor"):
        raise HTTPException(403, "moderation is for admins and region editors")
    return user


ModeratorPostDep = Annotated[User, Depends(require_moderator_post)]


def login_redirect(request: Request, exc: LoginRequired) -> Response:
    """Send an anonymous visitor of a protected page to the login form; a posted form
    gets the login page at once, with the form kept as a draft."""
    if exc.draft is not None:
        return render(
            request,
            "login.html",
            status_code=401,
            next=exc.next_url,
            error=None,
            email="",
            draft=exc.draft,
            notice=t("login_draft_kept", request_lang(request)),
        )
    return RedirectResponse(
        lang_url(request_lang(request), "/login", {"next": exc.next_url}), status_code=303
    )


def _safe_next(value: str | None) -> str:
    # only site-internal paths, so the login form cannot redirect elsewhere
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The login form."""
    return render(request, "login.html", next=_safe_next(next), error=None, email="")


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
    draft: Annotated[str, Form()] = "",
) -> Response:
    """Check the credentials; on success start a fresh session (new CSRF token) and go
    on to ``next`` (with the kept form when a draft came along)."""
    lang = request_lang(request)
    limited = False
    try:
        with session_scope(request.app.state.engine) as session:
            user = log_in(
                session=session,
                email=email,
                password=password,
                client=client_address(request),
                limit=LOGIN_LIMIT,
                now=datetime.now(UTC),
            )
            user_id = user.id if user else None
            version = user.session_version if user else None
    except RateLimited:
        limited = True
    if limited:
        return render(
            request,
            "login.html",
            status_code=429,
            next=_safe_next(next),
            error=t("login_limited", lang),
            email=email,
            draft=draft,
        )
    if user_id is None:
        return render(
            request,
            "login.html",
            status_code=400,
            next=_safe_next(next),
            error=t("login_failed", lang),
            email=email,
            draft=draft,
        )
    request.session.clear()
    request.session[SESSION_USER] = user_id
    request.session[SESSION_VERSION] = version
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    target = _safe_next(next)
    query = ""
    if draft and open_draft(request.app.state.forms_secret, draft, page=target) is not None:
        query = "?" + urlencode({"draft": draft})
    if request_lang(request) == "en" and not target.startswith("/en/"):
        target = lang_url("en", target)
    return RedirectResponse(target + query, status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    """End the session, and every copy of its cookie (the user's session version rises)."""
    user = current_user(request)
    if user is not None:
        with session_scope(request.app.state.engine) as session:
            end_sessions(session=session, user_id=user.id)  # type: ignore[arg-type]
    request.session.clear()
    return RedirectResponse(lang_url(request_lang(request), "/"), status_code=303)
