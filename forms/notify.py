"""Mail about submissions: editors hear of new ones in their region, submitters of the
decision, each time with the submitter's private edit link (Dutch first, then English)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import BackgroundTasks
from sqlalchemy import Engine
from sqlmodel import Session

from aggregator.accounts import moderator_addresses
from aggregator.mail import Mailer, MailMessage, send_quietly
from aggregator.models import Submission
from api.i18n import t
from api.web import lang_url


@dataclass(frozen=True, slots=True)
class Outbox:
    """Mail sent after the response (a slow mail server never holds up a form)."""

    mailer: Mailer
    tasks: BackgroundTasks

    def send(self, message: MailMessage) -> None:
        """Queue ``message``; a failure is logged, never shown to the visitor."""
        self.tasks.add_task(send_quietly, self.mailer, message)


def _both(key: str, **params: object) -> str:
    """A text in Dutch, then in English."""
    return f"{t(key, 'nl', **params)}\n\n{t(key, 'en', **params)}"


def _title(submission: Submission) -> str:
    data = submission.data
    return str(data.get("title") or data.get("name") or data.get("url") or "")


def edit_link(base_url: str, submission: Submission) -> str:
    """The submitter's private link to their submission."""
    path = lang_url("nl", f"/submit/edit/{submission.id}", {"token": submission.edit_token})
    return base_url + path


def tell_editors(
    outbox: Outbox,
    *,
    engine: Engine,
    base_url: str,
    region: str,
    region_name: str,
    title: str,
    review_path: str,
    changed: bool = False,
) -> None:
    """Tell the region's editors (else the admins) that something waits for them."""
    with Session(engine) as session:
        recipients = moderator_addresses(session=session, region=region)
    if not recipients:
        return
    key = "mail_editors_changed" if changed else "mail_editors_new"
    outbox.send(
        MailMessage(
            to=tuple(recipients),
            subject=t(key + "_subject", "nl", title=title, region=region_name),
            text=_both(key, title=title, region=region_name, url=base_url + review_path),
        )
    )


def tell_submitter_received(
    outbox: Outbox, *, base_url: str, submission: Submission, published: bool
) -> None:
    """The submitter's receipt with the private edit link (the page shows it only once)."""
    key = "mail_received_published" if published else "mail_received_pending"
    outbox.send(
        MailMessage(
            to=(submission.submitter_email,),
            subject=t("mail_received_subject", "nl", title=_title(submission)),
            text=_both(key, title=_title(submission), edit=edit_link(base_url, submission)),
        )
    )


def tell_submitter_decision(outbox: Outbox, *, base_url: str, submission: Submission) -> None:
    """The moderator's decision (approved, or rejected with the reason) and, for an
    event, the private edit link."""
    title = _title(submission)
    approved = submission.status == "approved"
    key = "mail_approved" if approved else "mail_rejected"
    text = _both(key, title=title, reason=submission.reason or "")
    if submission.kind == "event":
        text += "\n\n" + _both("mail_edit_link", edit=edit_link(base_url, submission))
        if approved and submission.event_id:
            text += f"\n\n{base_url}/events/{submission.event_id}"
    outbox.send(
        MailMessage(
            to=(submission.submitter_email,),
            subject=t(key + "_subject", "nl", title=title),
            text=text,
        )
    )
