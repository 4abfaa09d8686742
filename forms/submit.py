"""The submission form: propose an event or a feed; similar-event check while typing."""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from aggregator.db import session_scope
from aggregator.feed_proposals import (
    FeedError,
    FeedProposal,
    FeedRefused,
    FetchError,
    ProposalPolicy,
    proposable_kinds,
    propose_feed,
)
from aggregator.localtime import today_local
from aggregator.models import Submission
from aggregator.submissions import (
    RateLimited,
    similar_events,
    submit_event,
    update_by_submitter,
)
from api.deps import ConfigDep, SessionDep, public_base_url
from api.i18n import t
from api.pages import event_times
from api.web import lang_url, region_name, render, request_lang
from forms.auth import CsrfChecked, CsrfValid, current_user
from forms.notify import Outbox, tell_editors, tell_submitter_received
from forms.submit_form import EVENT_FIELDS, validate_email, validate_event, values_from_data
from forms.web import FormDep, FormsOptionsDep, client_address

router = APIRouter(include_in_schema=False)
HONEYPOT = "homepage"


def _empty_values(region: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {name: "" for name in EVENT_FIELDS}
    values.update(sectors=[], audiences=[], attendance="offline", language="nl")
    values["region"] = region or ""
    return values


def _form_page(request: Request, **context: Any) -> Response:
    context.setdefault("errors", {})
    context.setdefault("email", "")
    context.setdefault("status_code", 200)
    status = context.pop("status_code")
    return render(request, "submit.html", status_code=status, **context)


@router.get("/submit")
def submit_form(request: Request, region: str | None = None) -> Response:
    """The empty event form (a logged-in user's e-mail address filled in)."""
    user = current_user(request)
    return _form_page(
        request, values=_empty_values(region), mode="new", email=user.email if user else ""
    )


@router.post("/submit")
def submit(
    request: Request,
    csrf_ok: CsrfValid,
    form: FormDep,
    config: ConfigDep,
    options: FormsOptionsDep,
    background: BackgroundTasks,
) -> Response:
    """Check and save a submitted event (pending, or published for a trusted submitter);
    the submitter gets the edit link by mail, the region's editors hear of a pending one."""
    lang = request_lang(request)
    if form.get(HONEYPOT):
        # a bot filled the hidden field: answer as if all went well, store nothing
        return render(request, "submit_done.html", published=False, edit_url=None)
    checked = validate_event(
        form, config=config, lang=lang, today=today_local(), allowed_regions=None
    )
    email = str(form.get("submitter_email") or "").strip()
    user = current_user(request)
    if user is not None and not email:
        email = user.email
    email_error = validate_email(email, lang)
    if email_error:
        checked.errors["submitter_email"] = email_error
    if not csrf_ok or not checked.ok:
        # a session that has gone (expired cookie, restarted server) keeps what was typed
        return _form_page(
            request,
            values=checked.values,
            errors=checked.errors,
            email=email,
            mode="new",
            session_notice=None if csrf_ok else t("session_expired_kept", lang),
            status_code=400,
        )
    try:
        with session_scope(request.app.state.engine) as session:
            submission = submit_event(
                session=session,
                data=checked.data,
                email=email,
                user=user,
                client=client_address(request),
                limit=options.submit_limit,
                pipeline=request.app.state.pipeline,
                now=datetime.now(UTC),
            )
            published = submission.status == "approved"
            edit_path = lang_url(
                lang, f"/submit/edit/{submission.id}", {"token": submission.edit_token}
            )
            event_id = submission.event_id
    except RateLimited:
        return _form_page(
            request,
            values=checked.values,
            email=email,
            mode="new",
            limit_error=t("rate_limited", lang),
            status_code=429,
        )
    base_url = public_base_url(request)
    edit_url = f"{base_url}{edit_path}"
    outbox = Outbox(options.mailer, background)
    tell_submitter_received(outbox, base_url=base_url, submission=submission, published=published)
    if not published:
        tell_editors(
            outbox,
            engine=request.app.state.engine,
            base_url=base_url,
            region=submission.region,
            region_name=region_name(config, submission.region, "nl"),
            title=submission.data.get("title", ""),
            review_path=f"/moderation/{submission.id}",
        )
    return render(
        request, "submit_done.html", published=published, edit_url=edit_url, event_id=event_id
    )


def _owned(session: Session, submission_id: int, token: str) -> Submission:
    submission = session.get(Submission, submission_id)
    if (
        submission is None
        or submission.kind != "event"
        or not hmac.compare_digest(submission.edit_token, token or "")
    ):
        raise HTTPException(404, "no such submission")
    return submission


@router.get("/submit/edit/{submission_id}")
def edit_form(
    submission_id: int, request: Request, session: SessionDep, token: str = ""
) -> Response:
    """The submitter's own submission in the form, through their private link."""
    submission = _owned(session, submission_id, token)
    return _form_page(
        request,
        values=values_from_data(submission.data),
        email=submission.submitter_email,
        mode="edit",
        submission=submission,
        token=token,
    )


@router.post("/submit/edit/{submission_id}")
def edit(
    submission_id: int,
    request: Request,
    csrf_ok: CsrfValid,
    form: FormDep,
    config: ConfigDep,
    options: FormsOptionsDep,
    background: BackgroundTasks,
) -> Response:
    """Save the submitter's change; a changed date or place of a live event is re-checked."""
    lang = request_lang(request)
    token = str(form.get("token") or "")
    checked = validate_event(
        form, config=config, lang=lang, today=today_local(), allowed_regions=None
    )
    with session_scope(request.app.state.engine) as session:
        submission = _owned(session, submission_id, token)
        if not csrf_ok or not checked.ok:
            return _form_page(
                request,
                values=checked.values,
                errors=checked.errors,
                email=submission.submitter_email,
                mode="edit",
                submission=submission,
                token=token,
                session_notice=None if csrf_ok else t("session_expired_kept", lang),
                status_code=400,
            )
        outcome = update_by_submitter(
            session=session,
            submission=submission,
            data=checked.data,
            pipeline=request.app.state.pipeline,
            now=datetime.now(UTC),
        )
        message = t("submit_edit_requeued" if outcome == "requeued" else "submit_edit_saved", lang)
        if outcome == "requeued":
            tell_editors(
                Outbox(options.mailer, background),
                engine=request.app.state.engine,
                base_url=public_base_url(request),
                region=submission.region,
                region_name=region_name(config, submission.region, "nl"),
                title=submission.data.get("title", ""),
                review_path=f"/moderation/{submission.id}",
                changed=True,
            )
        return _form_page(
            request,
            values=checked.values,
            email=submission.submitter_email,
            mode="edit",
            submission=submission,
            token=token,
            message=message,
        )


@router.get("/submit/similar")
def similar(
    request: Request,
    session: SessionDep,
    title: str = "",
    day_text: Annotated[str, Query(alias="date")] = "",
) -> dict[str, Any]:
    """Events already in the calendar on that day with a similar title (for the form)."""
    lang = request_lang(request)
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return {"items": []}
    matches = similar_events(session=session, title=title[:200], day=day)
    return {
        "items": [
            {
                "id": event.id,
                "title": event.title,
                "when": event_times(event, lang)["text"],
                "url": lang_url(lang, f"/events/{event.id}"),
                "score": round(score),
            }
            for event, score in matches
        ]
    }


@router.get("/submit/feed")
def feed_form(request: Request, region: str | None = None) -> Response:
    """The form to propose a calendar feed as a new source."""
    values = {"url": "", "name": "", "kind": "ics", "region": region or ""}
    return render(request, "propose.html", values=values, errors={}, kinds=proposable_kinds())


@router.post("/submit/feed", dependencies=[CsrfChecked])
def submit_feed(
    request: Request,
    form: FormDep,
    config: ConfigDep,
    options: FormsOptionsDep,
    background: BackgroundTasks,
) -> Response:
    """Test-read a proposed feed; when it parses, queue it for an editor."""
    lang = request_lang(request)
    values = {k: str(form.get(k) or "").strip() for k in ("url", "name", "kind", "region")}
    email = str(form.get("submitter_email") or "").strip()
    kinds = proposable_kinds()

    def again(status: int, **extra: Any) -> Response:
        return render(
            request,
            "propose.html",
            status_code=status,
            values=values,
            email=email,
            kinds=kinds,
            **{"errors": {}, **extra},
        )

    if form.get(HONEYPOT):
        return render(request, "propose.html", values=values, errors={}, kinds=kinds, done=0)
    errors: dict[str, str] = {}
    if not values["url"]:
        errors["url"] = t("err_required", lang)
    if values["kind"] not in kinds:
        errors["kind"] = t("err_choice", lang)
    if values["region"] not in config.regions:
        errors["region"] = t("err_required", lang)
    if len(values["name"]) > 200:
        errors["name"] = t("err_too_long", lang, max=200)
    email_error = validate_email(email, lang)
    if email_error:
        errors["submitter_email"] = email_error
    if errors:
        return again(400, errors=errors)
    try:
        check = propose_feed(
            engine=request.app.state.engine,
            proposal=FeedProposal(email=email, **values),
            client=client_address(request),
            policy=ProposalPolicy(
                rate=options.submit_limit,
                allow_private=options.allow_private_feeds,
                user_agent=options.user_agent,
                past_days=options.past_days,
            ),
            pipeline=request.app.state.pipeline,
            now=datetime.now(UTC),
        )
    except RateLimited:
        return again(429, limit_error=t("rate_limited", lang))
    except FeedRefused as exc:
        return again(400, errors={"url": t(exc.code, lang)})
    except FetchError as exc:
        return again(400, errors={"url": t("err_feed_fetch", lang, reason=str(exc))})
    except FeedError as exc:
        return again(400, errors={"url": t("err_feed_parse", lang, reason=str(exc))})
    if check.events == 0:
        return again(400, errors={"url": t("err_feed_empty", lang)})
    tell_editors(
        Outbox(options.mailer, background),
        engine=request.app.state.engine,
        base_url=public_base_url(request),
        region=values["region"],
        region_name=region_name(config, values["region"], "nl"),
        title=values["name"] or values["url"],
        review_path="/moderation",
    )
    return again(200, done=check.events)
