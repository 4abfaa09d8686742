"""The event form: read the posted fields, check them, and say what is wrong in nl or en."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from aggregator.config import AppConfig
from api.i18n import t

_POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{2})\s*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
TEXT_LIMITS = {
    "title": (3, 200),
    "description": (0, 5000),
    "location_name": (0, 200),
    "address": (0, 200),
    "city": (0, 100),
    "organizer_name": (2, 200),
}
URL_FIELDS = ("url", "registration_url", "organizer_url")
EVENT_FIELDS = (
    "title",
    "description",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "attendance",
    "location_name",
    "address",
    "postcode",
    "city",
    "region",
    "url",
    "registration_url",
    "organizer_name",
    "organizer_url",
    "activity_type",
    "sectors",
    "audiences",
    "language",
    "is_free",
)
MAX_DAYS_AHEAD = 2 * 366
# the order of the fields on the page, for the error summary
FORM_ORDER = (
    "title",
    "description",
    "activity_type",
    "region",
    "organizer_name",
    "organizer_url",
    "url",
    "registration_url",
    "start_date",
    "start_time",
    "end_time",
    "end_date",
    "attendance",
    "location_name",
    "address",
    "postcode",
    "city",
    "sectors",
    "audiences",
    "language",
    "is_free",
)


@dataclass(slots=True)
class FormResult:
    """The cleaned values (as stored in Submission.data), the typed values and the errors."""

    data: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def values_from_data(data: dict[str, Any]) -> dict[str, Any]:
    """Form values for stored data (to show a submission in the form again)."""
    values = {k: data.get(k, "") for k in EVENT_FIELDS}
    values["sectors"] = list(data.get("sectors") or [])
    values["audiences"] = list(data.get("audiences") or [])
    free = data.get("is_free")
    values["is_free"] = "yes" if free is True else "no" if free is False else ""
    return values


def _one(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _parse_time(value: str) -> str | None:
    match = _TIME.match(value)
    if not match:
        return None
    try:
        return time(int(match[1]), int(match[2])).strftime("%H:%M")
    except ValueError:
        return None


def _valid_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def validate_event(
    form: Any, *, config: AppConfig, lang: str, today: date, allowed_regions: set[str] | None
) -> FormResult:
    """Check every field of a posted event form (``form`` is a Starlette FormData or dict)."""
    result = FormResult()
    errors, data = result.errors, result.data
    values: dict[str, Any] = {name: _one(form, name) for name in EVENT_FIELDS}
    getlist = getattr(form, "getlist", lambda name: form.get(name) or [])
    values["sectors"] = [v for v in getlist("sectors") if isinstance(v, str)]
    values["audiences"] = [v for v in getlist("audiences") if isinstance(v, str)]
    result.values = values

    for name, (low, high) in TEXT_LIMITS.items():
        value = values[name]
        if low and not value:
            errors[name] = t("err_required", lang)
        elif value and len(value) < low:
            errors[name] = t("err_too_short", lang, min=low)
        elif len(value) > high:
            errors[name] = t("err_too_long", lang, max=high)
        data[name] = value

    start_day = end_day = None
    try:
        start_day = date.fromisoformat(values["start_date"]) if values["start_date"] else None
        if start_day is None:
            errors["start_date"] = t("err_required", lang)
        elif start_day < today:
            errors["start_date"] = t("err_date_past", lang)
        elif start_day > today + timedelta(days=MAX_DAYS_AHEAD):
            errors["start_date"] = t("err_date_far", lang)
    except ValueError:
        errors["start_date"] = t("err_date", lang)
    try:
        end_day = date.fromisoformat(values["end_date"]) if values["end_date"] else None
    except ValueError:
        errors["end_date"] = t("err_date", lang)
    start_time = end_time = None
    for name in ("start_time", "end_time"):
        if values[name]:
            parsed = _parse_time(values[name])
            if parsed is None:
                errors[name] = t("err_time", lang)
            elif name == "start_time":
                start_time = parsed
            else:
                end_time = parsed
    if end_time and not values["start_time"]:
        errors["start_time"] = t("err_end_time_needs_start", lang)
    if start_day and end_day and end_day < start_day:
        errors["end_date"] = t("err_end_before_start", lang)
    elif (
        start_day
        and start_time
        and end_time
        and (end_day is None or end_day == start_day)
        and end_time <= start_time
    ):
        errors["end_time"] = t("err_end_before_start", lang)
    data.update(
        start_date=start_day.isoformat() if start_day else "",
        start_time=start_time or "",
        end_date=end_day.isoformat() if end_day and end_day != start_day else "",
        end_time=end_time or "",
    )

    attendance = values["attendance"] or "offline"
    if attendance not in ("offline", "online", "mixed"):
        errors["attendance"] = t("err_choice", lang)
    data["attendance"] = attendance
    postcode = values["postcode"]
    if postcode:
        match = _POSTCODE.match(postcode)
        if match:
            postcode = f"{match[1]} {match[2].upper()}"
        else:
            errors["postcode"] = t("err_postcode", lang)
    data["postcode"] = postcode
    if attendance != "online" and not (values["city"] or values["address"] or postcode):
        errors["city"] = t("err_place_needed", lang)

    region = values["region"]
    if region not in config.regions:
        errors["region"] = t("err_choice", lang) if region else t("err_required", lang)
    elif allowed_regions is not None and region not in allowed_regions:
        errors["region"] = t("err_region_not_yours", lang)
    data["region"] = region

    for name in URL_FIELDS:
        value = values[name]
        if value and not _valid_url(value):
            errors[name] = t("err_url", lang)
        data[name] = value

    types = set(config.taxonomy.slugs("activity_types"))
    if values["activity_type"] and values["activity_type"] not in types:
        errors["activity_type"] = t("err_choice", lang)
    data["activity_type"] = values["activity_type"]
    for name, vocabulary in (("sectors", "sectors"), ("audiences", "audiences")):
        allowed = set(config.taxonomy.slugs(vocabulary))
        if any(v not in allowed for v in values[name]):
            errors[name] = t("err_choice", lang)
        data[name] = [v for v in values[name] if v in allowed]
    language = values["language"] or "nl"
    if language not in ("nl", "en"):
        errors["language"] = t("err_choice", lang)
    data["language"] = language
    free = values["is_free"]
    if free not in ("", "yes", "no"):
        errors["is_free"] = t("err_choice", lang)
    data["is_free"] = True if free == "yes" else False if free == "no" else None
    result.errors = {name: errors[name] for name in FORM_ORDER if name in errors}
    return result


def validate_email(value: str, lang: str) -> str | None:
    """An error message for a bad e-mail address, else None."""
    if not value:
        return t("err_required", lang)
    if len(value) > 254 or not _EMAIL.match(value):
        return t("err_email", lang)
    return None
