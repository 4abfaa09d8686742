"""Changing one's password: current and new password, policy checked; other sessions end."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from aggregator.accounts import PasswordRefused, change_password
from aggregator.db import session_scope
from api.i18n import t
from api.web import render, request_lang
from forms.auth import SESSION_VERSION, CsrfChecked, UserDep
from forms.web import FormDep

router = APIRouter(include_in_schema=False)


_REFUSALS = {
    "wrong": "pw_wrong",
    "same": "pw_same",
    "short": "pw_short",
    "varied": "pw_varied",
    "common": "pw_common",
    "email": "pw_email",
}


def password_refusal(exc: PasswordRefused, lang: str) -> str:
    """Why a password was refused, in ``lang`` (the policy's own sentence if new)."""
    key = _REFUSALS.get(exc.code)
    return t(key, lang, **exc.params) if key else str(exc)


@router.get("/account/password")
def password_form(request: Request, user: UserDep) -> Response:
    """The form: current password, new password twice."""
    return render(request, "password.html", errors={}, done=False)


@router.post("/account/password", dependencies=[CsrfChecked])
def password_change(request: Request, user: UserDep, form: FormDep) -> Response:
    """Change the password; this session goes on, every other one (and every copied
    cookie) is ended on the server by the raised session version."""
    lang = request_lang(request)
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    errors: dict[str, str] = {}
    if new != str(form.get("new_password_again") or ""):
        errors["new_password_again"] = t("pw_mismatch", lang)
    else:
        try:
            with session_scope(request.app.state.engine) as session:
                version = change_password(
                    session=session,
                    user_id=user.id,  # type: ignore[arg-type]
                    current=current,
                    new=new,
                )
        except PasswordRefused as exc:
            field = "current_password" if exc.code == "wrong" else "new_password"
            errors[field] = password_refusal(exc, lang)
    if errors:
        return render(request, "password.html", status_code=400, errors=errors, done=False)
    request.session[SESSION_VERSION] = version
    return render(request, "password.html", errors={}, done=True)
