"""Submissions through the form: moderation states, publishing through the pipeline.

An approved event submission becomes a record of the source ``submissions`` and goes
through the same stages as a harvested record (normalise, classify, geocode) into every
feed. It is stored one record at a time (``upsert_draft``): approving one submission never
marks the others removed, as a harvest of a whole source would.

Data functions take ``*, session`` and do not commit; the request owns the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import text
from sqlmodel import Session, col, delete, func, select

from aggregator.config import AppConfig
from aggregator.draft import EventDraft
from aggregator.localtime import LOCAL_TZ, local_midnight
from aggregator.models import Event, RateLimitHit, Source, Submission, User
from aggregator.pipeline import Pipeline
from aggregator.store import upsert_record, withdraw_record
from crawlers.records import RawEvent
from crawlers.source import SourceConfig, SourceDefaults

SOURCE_ID = "submissions"
SOURCE_NAME = "Aangemeld via het formulier"
# A change to one of these sends an approved event back to the queue.
DATE_AND_PLACE_FIELDS = (
    "region",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "attendance",
    "location_name",
    "address",
    "postcode",
    "city",
)
SIMILARITY_THRESHOLD = 75


class PublishError(Exception):
    """A submission could not become an event (the pipeline dropped it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_edit_token() -> str:
    """The secret in the submitter's private edit link."""
    return secrets.token_urlsafe(24)


def submission_times(data: dict[str, Any]) -> tuple[datetime | date, datetime | date | None]:
    """Start and end of a submitted event: aware datetimes, or dates (end exclusive)."""
    start_day = date.fromisoformat(data["start_date"])
    end_day = date.fromisoformat(data["end_date"]) if data.get("end_date") else None
    if not data.get("start_time"):
        return start_day, (end_day or start_day) + timedelta(days=1)
    start = datetime.combine(start_day, time.fromisoformat(data["start_time"]), tzinfo=LOCAL_TZ)
    end = None
    if data.get("end_time"):
        end = datetime.combine(
            end_day or start_day, time.fromisoformat(data["end_time"]), tzinfo=LOCAL_TZ
        )
    return start, end


def submission_to_raw(submission: Submission) -> RawEvent:
    """The submission as a record of the ``submissions`` source."""
    data = submission.data
    start, end = submission_times(data)
    return RawEvent(
        source_id=SOURCE_ID,
        uid=f"submission-{submission.id}",
        title=data["title"],
        start=start,
        end=end,
        description=data.get("description") or None,
        url=data.get("url") or None,
        registration_url=data.get("registration_url") or None,
        location=data.get("location_name") or None,
        address=data.get("address") or None,
        postcode=data.get("postcode") or None,
        city=data.get("city") or None,
        organizer_name=data.get("organizer_name") or None,
        organizer_url=data.get("organizer_url") or None,
        categories=[data["activity_type"]] if data.get("activity_type") else [],
        language=data.get("language") or None,
        is_free=data.get("is_free"),
        last_modified=submission.updated_at,
    )


def submission_source(submission: Submission) -> SourceConfig:
    """The pipeline's view of the form as a source: the submitter's choices are defaults."""
    data = submission.data
    return SourceConfig.model_construct(
        id=SOURCE_ID,
        name=SOURCE_NAME,
        kind="form",  # not a harvested kind: never fetched, only run through the stages
        url="/submit",
        region=submission.region,
        relevance="all",
        organizer=None,
        organizer_url=None,
        defaults=SourceDefaults(
            sectors=list(data.get("sectors") or []),
            audiences=list(data.get("audiences") or []),
            activity_type=data.get("activity_type") or None,
            language=data.get("language") or None,
            attendance=data.get("attendance") or None,
        ),
    )


def ensure_source_row(*, session: Session) -> None:
    """The Source row the submitted records belong to."""
    if session.get(Source, SOURCE_ID) is None:
        session.add(
            Source(id=SOURCE_ID, name=SOURCE_NAME, kind="form", url="/submit", region="landelijk")
        )
        session.flush()


def upsert_draft(*, session: Session, source_id: str, draft: EventDraft, now: datetime) -> str:
    """Insert or update one record and its event; unlike a harvest, touch no other record."""
    return upsert_record(session=session, source_id=source_id, draft=draft, now=now)


def publish(*, session: Session, submission: Submission, pipeline: Pipeline, now: datetime) -> str:
    """Run an event submission through the harvest's pipeline and store it; return the event id.

    The pipeline's caches (the online geocoder's answers) are loaded and saved in the
    request's session, around the run.
    """
    ensure_source_row(session=session)
    source = submission_source(submission)
    pipeline.load_caches(session=session)
    (processed,) = pipeline.run([submission_to_raw(submission)], source)
    pipeline.save_caches(session=session)
    if processed.dropped:
        raise PublishError(processed.dropped)
    draft = processed.draft
    data = submission.data
    # what the submitter chose wins over keyword guesses
    if data.get("activity_type"):
        draft.activity_type = data["activity_type"]
    if data.get("sectors"):
        draft.sectors = list(data["sectors"])
    if data.get("audiences"):
        draft.audiences = list(data["audiences"])
    if data.get("attendance"):
        draft.attendance = data["attendance"]
    draft.relevant = True
    event_id = upsert_draft(session=session, source_id=SOURCE_ID, draft=draft, now=now)
    submission.event_id = event_id
    submission.published = dict(data)
    return event_id


def withdraw(*, session: Session, submission: Submission, now: datetime) -> None:
    """Take a published submission out of the calendar (its record marked removed)."""
    withdraw_record(
        session=session, source_id=SOURCE_ID, uid=f"submission-{submission.id}", now=now
    )
    submission.published = None


def create_submission(
    *,
    session: Session,
    data: dict[str, Any],
    region: str,
    email: str,
    user: User | None,
    pipeline: Pipeline,
    now: datetime,
    kind: str = "event",
) -> Submission:
    """Save a new submission; a trusted submitter's event is published at once."""
    submission = Submission(
        kind=kind,
        region=region,
        data=data,
        submitter_email=email.strip().lower(),
        submitter_user_id=user.id if user else None,
        edit_token=new_edit_token(),
        created_at=now,
        updated_at=now,
    )
    session.add(submission)
    session.flush()
    if kind == "event" and user is not None and user.trusted:
        try:
            publish(session=session, submission=submission, pipeline=pipeline, now=now)
        except PublishError as exc:
            # a stage refused it: a moderator looks at it like any other submission
            submission.reason = exc.reason
        else:
            submission.status = "approved"
            submission.decided_at = now
            submission.decided_by = user.id
    session.add(submission)
    return submission


def approve(
    *,
    session: Session,
    submission: Submission,
    moderator: User,
    pipeline: Pipeline,
    now: datetime,
    trust_submitter: bool = False,
) -> None:
    """Approve (and for events publish) a submission; optionally trust its submitter."""
    submission.status = "approved"
    submission.decided_by = moderator.id
    submission.decided_at = now
    submission.reason = None
    submission.updated_at = now
    if submission.kind == "event":
        publish(session=session, submission=submission, pipeline=pipeline, now=now)
    if trust_submitter and submission.submitter_user_id is not None:
        submitter = session.get(User, submission.submitter_user_id)
        if submitter is not None:
            submitter.trusted = True
            session.add(submitter)
    session.add(submission)


def moderate(
    *,
    session: Session,
    submission: Submission,
    moderator: User,
    pipeline: Pipeline,
    now: datetime,
    data: dict[str, Any] | None = None,
    publish_now: bool = True,
    trust_submitter: bool = False,
) -> None:
    """A moderator's decision on a submission: take their edits (``data``, already
    checked), then either only save them (``publish_now=False``) or approve and publish.

    Raises PublishError when a stage refuses the event: nothing is published then, and the
    submission stays as it was (pending), with the stage's reason.
    """
    if data is not None:
        submission.data = data
        submission.region = data["region"]
    if not publish_now:
        submission.updated_at = now
        session.add(submission)
        return
    decided = (submission.status, submission.decided_by, submission.decided_at)
    try:
        approve(
            session=session,
            submission=submission,
            moderator=moderator,
            pipeline=pipeline,
            now=now,
            trust_submitter=trust_submitter,
        )
    except PublishError as exc:
        # not approved after all: it stays in the queue, with the stage's reason
        submission.status, submission.decided_by, submission.decided_at = decided
        submission.reason = exc.reason
        session.add(submission)
        raise


def reject(
    *, session: Session, submission: Submission, moderator: User, reason: str, now: datetime
) -> None:
    """Reject a submission.

    A rejected *change* of a live event leaves the live version published; rejecting an
    approved, live submission takes its event out of the calendar (marked removed).
    """
    submission.reason = reason
    submission.decided_by = moderator.id
    submission.decided_at = now
    submission.updated_at = now
    if submission.status == "pending" and submission.published is not None:
        submission.data = dict(submission.published)
        submission.region = submission.published.get("region", submission.region)
        submission.status = "approved"
    else:
        if submission.published is not None:
            withdraw(session=session, submission=submission, now=now)
        submission.status = "rejected"
    session.add(submission)


def date_or_place_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a change touches the date, time or place of an event."""
    return any((old.get(f) or "") != (new.get(f) or "") for f in DATE_AND_PLACE_FIELDS)


def update_by_submitter(
    *,
    session: Session,
    submission: Submission,
    data: dict[str, Any],
    pipeline: Pipeline,
    now: datetime,
) -> str:
    """Apply the submitter's change. Returns 'saved', 'published' or 'requeued'.

    A live event whose date or place changes waits for moderation again (its previous
    version stays published); other changes of a live event are published at once.
    """
    submitter = (
        session.get(User, submission.submitter_user_id) if submission.submitter_user_id else None
    )
    trusted = submitter is not None and submitter.trusted
    submission.updated_at = now
    live = submission.status == "approved" and submission.published is not None
    submission.data = data
    submission.region = data.get("region") or submission.region
    session.add(submission)
    if not live:
        submission.status = "pending"
        return "saved"
    if date_or_place_changed(submission.published or {}, data) and not trusted:
        submission.status = "pending"
        return "requeued"
    try:
        publish(session=session, submission=submission, pipeline=pipeline, now=now)
    except PublishError as exc:
        submission.status = "pending"
        submission.reason = exc.reason
        return "requeued"
    return "published"


def similar_events(
    *,
    session: Session,
    title: str,
    day: date,
    exclude_ids: tuple[str, ...] = (),
    threshold: int = SIMILARITY_THRESHOLD,
    limit: int = 5,
) -> list[tuple[Event, float]]:
    """Live events on the same local day whose title looks like ``title`` (best first)."""
    if not title.strip():
        return []
    candidates = session.exec(
        select(Event).where(
            col(Event.removed_at).is_(None),
            col(Event.relevant).is_(True),
            Event.start_at >= local_midnight(day),
            Event.start_at < local_midnight(day + timedelta(days=1)),
        )
    )
    wanted = title.casefold()
    scored = []
    for event in candidates:
        if event.id in exclude_ids:
            continue
        score = fuzz.token_set_ratio(wanted, event.title.casefold())
        if score >= threshold:
            scored.append((event, float(score)))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]


class RateLimited(Exception):
    """A client used up its limit for an action (nothing was stored)."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` uses of an action per client address within ``window``."""

    limit: int
    window: timedelta


def check_rate(
    *, session: Session, client: str, action: str, limit: RateLimit, now: datetime
) -> None:
    """Count one use of ``action`` by ``client`` (an address); RateLimited when over."""
    key = client_key(client, action)
    if rate_limited(session=session, key=key, limit=limit.limit, window=limit.window, now=now):
        raise RateLimited(action)


def submit_event(
    *,
    session: Session,
    data: dict[str, Any],
    email: str,
    user: User | None,
    client: str,
    limit: RateLimit,
    pipeline: Pipeline,
    now: datetime,
) -> Submission:
    """A submitted event (checked ``data``) within the client's rate limit: saved for the
    queue, or published at once for a trusted submitter. Raises RateLimited."""
    check_rate(session=session, client=client, action="submit", limit=limit, now=now)
    return create_submission(
        session=session,
        data=data,
        region=data["region"],
        email=email,
        user=user,
        pipeline=pipeline,
        now=now,
    )


def client_key(address: str, action: str) -> str:
    """A digest of a client address per action: limits work without storing addresses."""
    return action + ":" + hashlib.sha256(f"{action}\x1f{address}".encode()).hexdigest()[:40]


def rate_limited(
    *, session: Session, key: str, limit: int, window: timedelta, now: datetime
) -> bool:
    """Whether ``key`` already used its ``limit`` within ``window`` (then nothing is logged).

    Counting and logging must not interleave between parallel requests, or all of them
    count the same number and pass: PostgreSQL takes a transaction lock on the key first;
    SQLite's first write (the prune) makes the transaction the only writer.
    """
    since = now - window
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
    prune_rate_limits(session=session, key=key, older_than=since)
    used = session.exec(
        select(func.count())
        .select_from(RateLimitHit)
        .where(RateLimitHit.key == key, RateLimitHit.at >= since)
    ).one()
    if used >= limit:
        return True
    session.add(RateLimitHit(key=key, at=now))
    return False


def prune_rate_limits(*, session: Session, key: str, older_than: datetime) -> None:
    """Forget one key's hits that fell out of its window."""
    session.execute(
        delete(RateLimitHit).where(col(RateLimitHit.key) == key, col(RateLimitHit.at) < older_than)
    )


def queue(*, session: Session, moderator: User, status: str = "pending") -> list[Submission]:
    """Submissions in a state that this moderator may see (an editor: their region only)."""
    statement = select(Submission).where(Submission.status == status)
    if moderator.role != "admin":
        statement = statement.where(Submission.region == (moderator.region or ""))
    order = col(Submission.created_at) if status == "pending" else col(Submission.updated_at).desc()
    return list(session.exec(statement.order_by(order).limit(200)))


def approved_feed_sources(*, session: Session) -> list[dict[str, Any]]:
    """Feed URLs proposed through the form and approved: entries for sources.yaml."""
    rows = session.exec(
        select(Submission).where(Submission.kind == "source", Submission.status == "approved")
    )
    return [
        {
            "id": f"voorgesteld-{row.id}",
            "name": row.data.get("name") or row.data["url"],
            "kind": row.data.get("kind", "ics"),
            "url": row.data["url"],
            "region": row.region,
            "guarded": True,
        }
        for row in rows
    ]


def with_approved_feeds(config: AppConfig, *, session: Session) -> AppConfig:
    """The configuration plus every approved feed proposal as a harvestable source.

    For the harvest and the scheduler to call after loading sources.yaml (not wired in
    this branch); an id already in sources.yaml wins.
    """
    known = {source.id for source in config.sources}
    extra = [
        SourceConfig(**entry)
        for entry in approved_feed_sources(session=session)
        if entry["id"] not in known
    ]
    return config.model_copy(update={"sources": [*config.sources, *extra]})
