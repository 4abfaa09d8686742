"""Tell a source's owners when it starts failing or is held, and when it recovers.

``notify_source_health`` runs after each harvest run of a source (the harvest outcome
path: ``agenda harvest`` and the scheduler). The owners are the source's ``contacts``
(sources.yaml) and the active editors of its region. The notification log
(``SourceNotification``) decides:

- a problem (``failed`` or ``held``) mails when the owners were not told of a problem
  since the last recovery, and no problem mail went out for this source in the last
  ``QUIET`` (a day): a source that flaps sends at most one problem mail a day;
- a good run (``success`` or ``unchanged``) mails a recovery only when the last mail was
  a problem mail, so each problem mail gets at most one recovery mail;
- ``interrupted`` runs (the process was stopped) say nothing about the source.

A mail that cannot be sent is logged and not recorded, so the next run tries again; a
harvest never fails because of mail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from aggregator.config import AppConfig
from aggregator.db import session_scope
from aggregator.harvest import HarvestOutcome
from aggregator.health_mail import FAILING, HELD, RECOVERED, SourceFacts, health_message
from aggregator.mail import Mailer, send_quietly
from aggregator.models import Source, SourceNotification, User

QUIET = timedelta(days=1)
PROBLEM_KINDS = (FAILING, HELD)
_KIND_OF_OUTCOME = {"failed": FAILING, "held": HELD, "success": RECOVERED, "unchanged": RECOVERED}


def owners(*, session: Session, source: Source, contacts: list[str]) -> tuple[str, ...]:
    """The source's contacts, then the active editors of its region (each address once)."""
    editors = session.exec(
        select(User.email).where(
            User.role == "editor", User.region == source.region, col(User.active).is_(True)
        )
    ).all()
    return tuple(dict.fromkeys([*contacts, *editors]))


def _last(
    session: Session, source_id: str, kinds: tuple[str, ...] | None = None
) -> SourceNotification | None:
    query = select(SourceNotification).where(SourceNotification.source_id == source_id)
    if kinds is not None:
        query = query.where(col(SourceNotification.kind).in_(kinds))
    return session.exec(query.order_by(col(SourceNotification.id).desc()).limit(1)).first()


def mail_due(*, session: Session, source_id: str, outcome: str, now: datetime) -> str | None:
    """The kind of mail this run's ``outcome`` calls for (failing, held, recovered), or None."""
    kind = _KIND_OF_OUTCOME.get(outcome)
    if kind is None:
        return None
    last = _last(session, source_id)
    told_of_problem = last is not None and last.kind in PROBLEM_KINDS
    if kind == RECOVERED:
        return RECOVERED if told_of_problem else None
    if told_of_problem:
        return None
    last_problem = _last(session, source_id, PROBLEM_KINDS)
    if last_problem is not None and now - last_problem.sent_at < QUIET:
        return None
    return kind


def notify_source_health(
    outcome: HarvestOutcome,
    *,
    engine: Engine,
    config: AppConfig,
    mailer: Mailer,
    site_url: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """Mail the owners if this run started or ended a problem; return the kind sent, or None.

    ``site_url`` (AGENDA_BASE_URL) makes the link to /bronnen absolute; ``now`` is the
    wall clock unless a test fixes it.
    """
    moment = now or datetime.now(UTC)
    contacts = {source.id: source.contacts for source in config.sources}
    with session_scope(engine) as session:
        kind = mail_due(
            session=session, source_id=outcome.source_id, outcome=outcome.outcome, now=moment
        )
        source = session.get(Source, outcome.source_id)
        if kind is None or source is None:
            return None
        to = owners(session=session, source=source, contacts=contacts.get(source.id, []))
        if not to:
            return None
        reason = outcome.error if kind != RECOVERED else None
        message = health_message(
            kind=kind,
            source=SourceFacts(source.id, source.name, source.url, source.region),
            to=to,
            reason=reason,
            http_status=outcome.http_status,
            site_url=site_url,
        )
        if not send_quietly(mailer, message):
            return None
        session.add(
            SourceNotification(
                source_id=source.id,
                kind=kind,
                sent_at=moment,
                recipients=", ".join(to),
                reason=reason,
            )
        )
    return kind
