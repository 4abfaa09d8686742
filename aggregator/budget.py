"""The processing budget of one source: a size per field and a wall time for the pipeline.

A source may be valid and still pathological: a 10 MB description, a title of one long
unbroken word, a feed of tens of thousands of records. The download is bounded by the
fetcher; what happens after it is bounded here, so that one source cannot hold a harvest
(and, under ``agenda run``, every later harvest) for ever:

- every text field of a record is cut to ``FIELD_LIMITS`` characters before the stages
  see it (the cut is recorded as a problem of that record, the rest of the record is kept);
- parsing and the stages may spend at most ``seconds`` (``HARVEST_PROCESS_BUDGET``) on
  one source, counted from when the body reaches its reader. When the budget runs out,
  the records processed so far are stored, the rest is reported as one problem, and the
  listing counts as partial: nothing is marked removed;
- one component may take a share of it (``crawlers.deadline.SHARE``): a series whose
  expansion, or a record whose stages, overrun it is left out as a problem of its own,
  the rest of the source is stored, and nothing is marked removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from crawlers.deadline import Deadline
from crawlers.records import ParseProblem, RawEvent

TEXT_LIMIT = 2_000  # one-line fields: a title, a place, a name, a URL
FIELD_LIMITS: dict[str, int] = {
    "title": TEXT_LIMIT,
    "description": 20_000,
    "description_html": 60_000,
    "location": TEXT_LIMIT,
    "address": TEXT_LIMIT,
    "postcode": 32,
    "city": TEXT_LIMIT,
    "url": TEXT_LIMIT,
    "registration_url": TEXT_LIMIT,
    "online_url": TEXT_LIMIT,
    "organizer_name": TEXT_LIMIT,
    "organizer_url": TEXT_LIMIT,
    "organizer_email": 254,
    "price": TEXT_LIMIT,
}
MAX_CATEGORIES = 100
DEFAULT_SECONDS = 120.0


def bound_fields(raw: RawEvent) -> list[str]:
    """Cut a record's text fields to their limits in place; return what was cut."""
    cut = []
    for name, limit in FIELD_LIMITS.items():
        value = getattr(raw, name)
        if isinstance(value, str) and len(value) > limit:
            setattr(raw, name, value[:limit])
            cut.append(f"{name} ({len(value)} characters, kept {limit})")
    if len(raw.categories) > MAX_CATEGORIES:
        cut.append(f"categories ({len(raw.categories)}, kept {MAX_CATEGORIES})")
        raw.categories = raw.categories[:MAX_CATEGORIES]
    raw.categories = [c[:TEXT_LIMIT] for c in raw.categories]
    return cut


@dataclass(slots=True)
class Budget:
    """Apply the budget to a source's records on their way into the pipeline."""

    source_id: str
    seconds: float = DEFAULT_SECONDS
    problems: list[ParseProblem] = field(default_factory=list)
    exhausted: bool = False
    deadline: Deadline = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = Deadline(self.seconds)

    def records(self, records: Iterable[RawEvent]) -> Iterator[RawEvent]:
        """The records, fields bounded, until the wall time is spent.

        The clock is ``deadline``'s: started when the body was handed to its reader
        (under :func:`crawlers.deadline.bounded`), else here. The check is made between
        records, and the stages check one record's share between them (``pipeline``).
        """
        self.deadline.start()
        pending = list(records)
        for index, raw in enumerate(pending):
            if self.deadline.expired():
                self.exhausted = True
                self.problems.append(
                    ParseProblem(
                        self.source_id,
                        f"processing budget of {self.seconds:g} s spent after {index} of"
                        f" {len(pending)} records (HARVEST_PROCESS_BUDGET); the rest is left"
                        " for the next harvest and nothing is marked removed",
                    )
                )
                return
            cut = bound_fields(raw)
            if cut:
                self.problems.append(
                    ParseProblem(self.source_id, f"{raw.uid}: cut to size: {', '.join(cut)}")
                )
            yield raw

    def overrun(self, uid: str, reason: str) -> None:
        """Record a record that overran its share: left out, and the listing is a part."""
        self.exhausted = True
        self.problems.append(
            ParseProblem(
                self.source_id, f"{uid}: left out, {reason}; nothing is marked removed", uid=uid
            )
        )
