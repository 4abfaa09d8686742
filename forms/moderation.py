"""The moderation queue: region editors and admins approve, edit or reject submissions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from aggregator.accounts import can_moderate
from aggregator.db import session_scope
from aggregator.localtime import today_local
from aggregator.models import Submission, User
from aggregator.submissions import PublishError, moderate, queue, reject, similar_events
from api.deps import ConfigDep, public_base_url
from api.i18n import t
from api.pages import event_times
from api.web import lang_url, render, request_lang
from forms.auth import ModeratorDep, ModeratorPostDep
from forms.drafts import open_draft
from forms.notify import Outbox, tell_submitter_decision
from forms.submit_form import validate_event, values_from_data
from forms.web import FormDep, FormsOptionsDep

router = APIRouter(include_in_schema=False)


def _allowed(session: Session, submission_id: int, user: User) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None or not can_moderate(user, submission.region):
        raise HTTPException(404, "no such submission in your region")
    return submission


def _duplicates(session: Session, submission: Submission, lang: str) -> list[dict[str, Any]]:
    if submission.kind != "event" or not submission.data.get("start_date"):
        return []
    exclude = (submission.event_id,) if submission.event_id else ()
    matches = similar_events(
        session=session,
        title=submission.data.get("title", ""),
        day=date.fromisoformat(submission.data["start_date"]),
        exclude_ids=exclude,
    )
    return [
        {"id": e.id, "title": e.title, "when": event_times(e, lang)["text"], "score": round(s)}
        for e, s in matches
    ]


@router.get("/moderation")
def moderation_queue(request: Request, user: ModeratorDep, done: str | None = None) -> Response:
    """What waits for this moderator, and what was decided lately."""
    with Session(request.app.state.engine) as session:
        pending = queue(session=session, moderator=user, status="pending")
        decided = (
            queue(session=session, moderator=user, status="approved")[:10]
            + queue(session=session, moderator=user, status="rejected")[:10]
        )
        decided.sort(key=lambda s: s.updated_at, reverse=True)
    return render(
        request, "moderation.html", pending=pending, decided=decided, done=done, moderator=user
    )


def _item_page(
    request: Request,
    session: Session,
    submission: Submission,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    reason: str = "",
    notice: str | None = None,
) -> Response:
    lang = request_lang(request)
    return render(
        request,
        "moderation_item.html",
        status_code=status_code,
        submission=submission,
        values=values or values_from_data(submission.data),
        errors=errors or {},
        duplicates=_duplicates(session, submission, lang),
        reason=reason,
        notice=notice,
    )


@router.get("/moderation/{submission_id}")
def moderation_item(
    submission_id: int, request: Request, user: ModeratorDep, config: ConfigDep, draft: str = ""
) -> Response:
    """One submission with its data in an editable form and possible duplicates; with a
    draft (kept across a login) the form shows what the moderator had typed."""
    kept = None
    if draft:
        kept = open_draft(
            request.app.state.forms_secret, draft, page=f"/moderation/{submission_id}"
        )
    with Session(request.app.state.engine) as session:
        submission = _allowed(session, submission_id, user)
        if kept is None:
            return _item_page(request, session, submission)
        lang = request_lang(request)
        values = None
        if submission.kind == "event" and "title" in kept:
            values = validate_event(
                kept, config=config, lang=lang, today=today_local(), allowed_regions=None
            ).values
        return _item_page(
            request,
            session,
            submission,
            values=values,
            reason=str(kept.get("reason") or ""),
            notice=t("draft_restored", lang),
        )


@router.post("/moderation/{submission_id}/approve")
def approve_submission(
    submission_id: int,
    request: Request,
    user: ModeratorPostDep,
    form: FormDep,
    config: ConfigDep,
    options: FormsOptionsDep,
    background: BackgroundTasks,
) -> Response:
    """Save the moderator's edits and publish the submission (the submitter is told)."""
    lang = request_lang(request)
    now = datetime.now(UTC)
    save_only = form.get("action") == "save"
    with session_scope(request.app.state.engine) as session:
        submission = _allowed(session, submission_id, user)
        data = None
        if submission.kind == "event":
            allowed = None if user.role == "admin" else {user.region or ""}
            checked = validate_event(
                form, config=config, lang=lang, today=today_local(), allowed_regions=allowed
            )
            if not checked.ok:
                return _item_page(
                    request,
                    session,
                    submission,
                    values=checked.values,
                    errors=checked.errors,
                    status_code=400,
                )
            data = checked.data
        try:
            moderate(
                session=session,
                submission=submission,
                moderator=user,
                pipeline=request.app.state.pipeline,
                now=now,
                data=data,
                publish_now=not save_only or submission.kind != "event",
                trust_submitter=form.get("trust") == "1",
            )
        except PublishError as exc:
            return _item_page(request, session, submission, errors={"title": str(exc)})
    done = "saved" if save_only and submission.kind == "event" else "approved"
    if done == "approved":
        tell_submitter_decision(
            Outbox(options.mailer, background),
            base_url=public_base_url(request),
            submission=submission,
        )
    return RedirectResponse(lang_url(lang, "/moderation", {"done": done}), status_code=303)


@router.post("/moderation/{submission_id}/reject")
def reject_submission(
    submission_id: int,
    request: Request,
    user: ModeratorPostDep,
    form: FormDep,
    options: FormsOptionsDep,
    background: BackgroundTasks,
) -> Response:
    """Reject a submission with a reason (the reason is required; the submitter is told)."""
    lang = request_lang(request)
    reason = str(form.get("reason") or "").strip()
    with session_scope(request.app.state.engine) as session:
        submission = _allowed(session, submission_id, user)
        if not reason:
            return _item_page(
                request,
                session,
                submission,
                errors={"reason": t("err_reason_required", lang)},
                status_code=400,
            )
        reject(
            session=session,
            submission=submission,
            moderator=user,
            reason=reason[:2000],
            now=datetime.now(UTC),
        )
    tell_submitter_decision(
        Outbox(options.mailer, background),
        base_url=public_base_url(request),
        submission=submission,
    )
    return RedirectResponse(lang_url(lang, "/moderation", {"done": "rejected"}), status_code=303)
