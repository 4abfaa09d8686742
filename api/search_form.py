"""The search page's form: every API filter as typed, checked leniently, each problem
kept next to its field (nothing is dropped without saying so), and links that drop one
filter (active-filter chips, the empty state's suggestions)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal, cast

from aggregator.proximity import AmbiguousNear, NearError, parse_near
from aggregator.query import EventFilters
from api.i18n import t
from api.params import DEFAULT_KM, EARLIEST, LATEST, MAX_KM, FilterProblem, build_filters
from api.web import region_name, term_label

SORTS = ("date", "relevance", "distance")
# query parameter -> SearchForm attribute, in the order links write them
_PARAMS = {
    "q": "q",
    "region": "region",
    "sector": "sector",
    "type": "type",
    "audience": "audience",
    "phase": "phase",
    "attendance": "attendance",
    "free": "free",
    "lang": "language",
    "from": "date_from",
    "to": "date_to",
    "near": "near",
    "km": "km",
    "plus_online": "plus_online",
    "sort": "sort",
}
PARAM_NAMES = tuple(_PARAMS)


@dataclass(slots=True)
class SearchForm:
    """The search page's filters as typed (strings kept, so the form shows them back)."""

    q: str = ""
    region: str = ""
    sector: str = ""
    type: str = ""
    audience: str = ""
    phase: str = ""
    attendance: str = ""
    free: str = ""
    language: str = ""
    date_from: str = ""
    date_to: str = ""
    near: str = ""
    km: str = "25"
    plus_online: str = ""
    sort: str = ""
    page: int = 1
    notices: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, raw: dict[str, str]) -> SearchForm:
        """The form from a request's query parameters (unknown parameters are ignored)."""
        values = {attr: raw.get(name, "").strip() for name, attr in _PARAMS.items()}
        if not values["km"]:
            values["km"] = "25"
        form = cls()
        for attr, value in values.items():
            setattr(form, attr, value)
        return form

    def params(self, **override: Any) -> dict[str, Any]:
        """The query parameters of this search (for links: pages, language, subscriptions)."""
        values: dict[str, Any] = {name: getattr(self, attr) for name, attr in _PARAMS.items()}
        values["km"] = self.km if self.near and self.km != "25" else ""
        values["plus_online"] = "true" if self.near and self.plus_online_on else ""
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "")}

    @property
    def plus_online_on(self) -> bool:
        """Whether the 'also online' box is ticked."""
        return self.plus_online.lower() in ("true", "1", "on", "yes")

    def date_value(self, name: str) -> str:
        """The value for a date field: what was typed when it is a date, else empty (a
        date input holds dates only; the field's error repeats what was typed)."""
        value = self.date_from if name == "from" else self.date_to
        try:
            return date.fromisoformat(value).isoformat() if value else ""
        except ValueError:
            return ""

    def extra_count(self) -> int:
        """How many filters of the drawer (all but keywords and place) are set."""
        names = (
            "region",
            "sector",
            "type",
            "audience",
            "phase",
            "attendance",
            "free",
            "language",
            "date_from",
            "date_to",
        )
        return sum(1 for name in names if getattr(self, name)) + (self.sort not in ("", "date"))


def _parse_day(form: SearchForm, name: str, value: str, lang: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        form.errors[name] = t("err_date", lang, value=value[:40])
        return None


def _free(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value.lower())


def _near_message(near: str, lang: str) -> str:
    """Why a near value cannot be used: the candidates of an ambiguous name, or unknown."""
    try:
        parse_near(near)
    except AmbiguousNear as exc:
        return t("near_ambiguous", lang, near=near, candidates="; ".join(exc.candidates))
    except NearError:
        pass
    return t("near_unknown", lang, near=near)


def _problem_message(form: SearchForm, problem: FilterProblem, lang: str, km: float) -> str:
    """The visitor's words for one problem ``build_filters`` found."""
    name = problem.name
    if name == "near":
        return _near_message(form.near, lang)
    if name in ("from", "to"):
        value = form.date_from if name == "from" else form.date_to
        if "before" in problem.message:
            return t("err_to_before_from", lang, to=form.date_to, start=form.date_from)
        return t("date_out_of_range", lang, value=value, earliest=EARLIEST, latest=LATEST)
    if name == "km":
        return t("err_km", lang, km=f"{km:g}")
    if name in ("plus_online", "sort") and "needs" in problem.message:
        return t("err_needs_near", lang)
    attr = _PARAMS.get(name, name)
    return t("err_unknown_value", lang, value=str(getattr(form, attr, ""))[:40])


def search_filters(config: Any, form: SearchForm, lang: str, *, per_page: int) -> EventFilters:
    """The form's filters (``api.params``, leniently): what cannot be used is left out and
    explained in ``form.errors`` under its field. Upcoming events unless 'from' is given."""
    try:
        radius = float(form.km or DEFAULT_KM)
    except ValueError:
        radius = DEFAULT_KM
        form.errors["km"] = t("err_km", lang, km=f"{DEFAULT_KM:g}")
    if form.near and not 1 <= radius <= MAX_KM:
        radius = max(1.0, min(radius, MAX_KM))
        form.errors["km"] = t("err_km", lang, km=f"{radius:g}")
    sort = form.sort or None
    if sort is not None and sort not in SORTS:
        form.errors["sort"] = t("err_unknown_value", lang, value=form.sort[:40])
        sort = None
    free = _free(form.free)
    if form.free and free is None:
        form.errors["free"] = t("err_unknown_value", lang, value=form.free[:40])
    problems: list[FilterProblem] = []
    filters = build_filters(
        config,
        q=form.q or None,
        date_from=_parse_day(form, "from", form.date_from, lang),
        date_to=_parse_day(form, "to", form.date_to, lang),
        region=[form.region] if form.region else None,
        sector=[form.sector] if form.sector else None,
        type_=[form.type] if form.type else None,
        phase=[form.phase] if form.phase else None,
        audience=[form.audience] if form.audience else None,
        attendance=[form.attendance] if form.attendance else None,
        lang=[form.language] if form.language else None,
        free=free,
        near=form.near or None,
        km=radius if form.near else None,
        plus_online=form.plus_online_on,
        sort=cast(Literal["date", "distance", "relevance"] | None, sort),
        page=form.page,
        per_page=per_page,
        lenient=True,
        problems=problems,
    )
    for problem in problems:
        form.errors.setdefault(problem.name, _problem_message(form, problem, lang, radius))
    if filters.date_from is None:
        from aggregator.localtime import today_local

        start = today_local()
        end = filters.date_to if filters.date_to and filters.date_to >= start else None
        filters = replace(filters, date_from=start, date_to=end)
    return filters


def active_filters(form: SearchForm, config: Any, lang: str) -> list[tuple[str, dict[str, Any]]]:
    """Each filter in use, as (label, the search's parameters without it)."""
    labels: list[tuple[str, str]] = []
    if form.q:
        labels.append(("q", f"“{form.q}”"))
    if form.near:
        labels.append(("near", f"{form.near} ({form.km} km)"))
    if form.region:
        labels.append(("region", region_name(config, form.region, lang)))
    for name, attr, kind in (
        ("sector", "sector", "sectors"),
        ("type", "type", "activity_types"),
        ("audience", "audience", "audiences"),
        ("phase", "phase", "phases"),
    ):
        value = getattr(form, attr)
        if value:
            labels.append((name, term_label(config, kind, value, lang)))
    if form.attendance in ("online", "offline"):
        labels.append(("attendance", t(f"attendance_{form.attendance}", lang)))
    if form.free in ("true", "false"):
        labels.append(("free", t("free_only" if form.free == "true" else "paid_only", lang)))
    if form.language in ("nl", "en"):
        labels.append(("lang", t(f"lang_{form.language}", lang)))
    if form.date_from:
        labels.append(("from", f"{t('field_from', lang)} {form.date_from}"))
    if form.date_to:
        labels.append(("to", f"{t('field_to', lang)} {form.date_to}"))
    chips = []
    for name, label in labels:
        dropped = {name: ""}
        if name == "near":
            dropped.update(km="", plus_online="", sort="" if form.sort == "distance" else form.sort)
        chips.append((label, form.params(**dropped)))
    return chips
