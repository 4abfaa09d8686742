"""Account administration for admins: add editors and submitters, trust or block them."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from aggregator.accounts import ROLES, AccountError, change_user, create_account
from aggregator.db import session_scope
from aggregator.models import User
from api.deps import ConfigDep
from api.web import lang_url, render, request_lang
from forms.auth import CsrfChecked, ModeratorDep
from forms.web import FormDep

router = APIRouter(include_in_schema=False)


def _admin(user: User) -> User:
    if user.role != "admin":
        raise HTTPException(403, "only admins manage accounts")
    return user


def _page(
    request: Request,
    *,
    error: str | None = None,
    values: dict | None = None,
    status_code: int = 200,
) -> Response:
    with Session(request.app.state.engine) as session:
        users = list(session.exec(select(User).order_by(col(User.role), col(User.email))))
    return render(
        request,
        "users.html",
        status_code=status_code,
        users=users,
        roles=ROLES,
        error=error,
        values=values or {"email": "", "role": "editor", "region": ""},
    )


@router.get("/moderation/users")
def users_page(request: Request, user: ModeratorDep) -> Response:
    """Every account, and a form to add one."""
    _admin(user)
    return _page(request)


@router.post("/moderation/users", dependencies=[CsrfChecked])
def add_user(request: Request, user: ModeratorDep, form: FormDep, config: ConfigDep) -> Response:
    """Add an account (the admin passes the first password on to its owner)."""
    _admin(user)
    values = {k: str(form.get(k) or "").strip() for k in ("email", "role", "region")}
    try:
        create_account(
            engine=request.app.state.engine,
            email=values["email"],
            password=str(form.get("password") or ""),
            role=values["role"],
            region=values["region"] or None,
            trusted=form.get("trusted") == "1",
            regions=config.regions.by_slug,
        )
    except AccountError as exc:
        return _page(request, error=str(exc), values=values, status_code=400)
    return RedirectResponse(lang_url(request_lang(request), "/moderation/users"), 303)


@router.post("/moderation/users/{user_id}", dependencies=[CsrfChecked])
def change_account(user_id: int, request: Request, user: ModeratorDep, form: FormDep) -> Response:
    """Trust or distrust a submitter; block or unblock an account (not one's own)."""
    _admin(user)
    action = str(form.get("action") or "")
    try:
        with session_scope(request.app.state.engine) as session:
            changed = change_user(session=session, admin=user, user_id=user_id, action=action)
    except AccountError as exc:
        raise HTTPException(400, str(exc)) from exc
    if changed is None:
        raise HTTPException(404, "no such account")
    return RedirectResponse(lang_url(request_lang(request), "/moderation/users"), 303)
