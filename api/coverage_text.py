"""The words of the coverage views: labels, and each gap as a sentence in Dutch or English."""

from __future__ import annotations

from datetime import date
from typing import Any

from aggregator.coverage import ANY, Coverage, Gap, add_months
from api.i18n import lookup, month_name
from api.web import region_name, term_label

STRINGS: dict[str, tuple[str, str]] = {
    "title": (
        "Dekking: waar en wanneer zijn er activiteiten?",
        "Coverage: where and when are there activities?",
    ),
    "title_region": ("Dekking in {region}", "Coverage in {region}"),
    "intro": (
        "Aantal komende activiteiten per regio, sector, soort en maand, en waar ze ontbreken. "
        "Een planningsoverzicht voor de regio's en het landelijke loket.",
        "Upcoming activities per region, sector, type and month, and where they are missing. "
        "A planning view for the regions and the national desk.",
    ),
    "filters": ("Filteren", "Filter"),
    "all_regions": ("Heel Nederland", "The whole country"),
    "all": ("Alle", "All"),
    "months": ("Maanden vooruit", "Months ahead"),
    "from_month": ("Vanaf maand (jjjj-mm)", "From month (yyyy-mm)"),
    "show": ("Tonen", "Show"),
    "region": ("Regio", "Region"),
    "sector": ("Sector", "Sector"),
    "type": ("Soort activiteit", "Type of activity"),
    "total": ("Totaal", "Total"),
    "none": ("geen", "none"),
    "unknown": ("onbekend", "unknown"),
    "no_region": ("zonder regio", "without a region"),
    "national_table": (
        "Activiteiten per regio en maand ({scope})",
        "Activities per region and month ({scope})",
    ),
    "sector_table": ("Activiteiten per sector en maand", "Activities per sector and month"),
    "type_table": (
        "Activiteiten voor {sector} per soort en maand",
        "Activities for {sector} per type and month",
    ),
    "scope_all": ("alle sectoren en soorten", "all sectors and types"),
    "legend": (
        "Een lege maand staat als ‘geen’ in de tabel; donkerder is meer activiteiten.",
        "An empty month shows as ‘none’ in the table; darker means more activities.",
    ),
    "gaps": ("Gaten in het aanbod", "Gaps in the offer"),
    "gaps_none": ("Geen gaten gevonden met deze filters.", "No gaps found with these filters."),
    "gaps_national_note": (
        "Landelijk: gaten per regio en per sector. Kies een soort activiteit of een regio "
        "voor de gaten per soort.",
        "National view: gaps per region and per sector. Choose a type of activity or a "
        "region for the gaps per type.",
    ),
    "national_view": ("Landelijk overzicht", "National view"),
    "download": ("Downloaden:", "Download:"),
    "events_counted": ("{n} activiteiten geteld", "{n} activities counted"),
    "region_page": ("Activiteiten in {region}", "Activities in {region}"),
    "gap_any": ("geen activiteiten in {region} {when}", "no activities in {region} {when}"),
    "gap_sector": (
        "geen activiteiten voor {sector} in {region} {when}",
        "no activities for {sector} in {region} {when}",
    ),
    "gap_type": (
        "geen {type} voor {sector} in {region} {when}",
        "no {type} for {sector} in {region} {when}",
    ),
    "when_whole": ("van {first} t/m {last}", "from {first} to {last}"),
    "when_one": ("in {month}", "in {month}"),
    "when_before": ("vóór {month}", "before {month}"),
    "when_after": ("na {month}", "after {month}"),
    "when_between": ("van {first} t/m {last}", "from {first} to {last}"),
}


def ct(key: str, lang: str, /, **params: object) -> str:
    """A string of the coverage views in ``lang``."""
    return lookup(STRINGS, key, lang, **params)


def _month(month: date, lang: str, coverage: Coverage) -> str:
    """A month's name, with the year when the period is not within one calendar year."""
    one_year = coverage.months[0].year == coverage.months[-1].year
    return month_name(month, lang, year=not one_year)


def _when(gap: Gap, coverage: Coverage, lang: str) -> str:
    def name(month: date) -> str:
        return _month(month, lang, coverage)

    if gap.first == gap.last:
        return ct("when_one", lang, month=name(gap.first))
    if gap.whole:
        return ct("when_whole", lang, first=name(gap.first), last=name(gap.last))
    if gap.leading:
        return ct("when_before", lang, month=name(add_months(gap.last, 1)))
    if gap.trailing:
        return ct("when_after", lang, month=name(add_months(gap.first, -1)))
    return ct("when_between", lang, first=name(gap.first), last=name(gap.last))


def place_name(config: Any, slug: str, lang: str) -> str:
    """A row's region name ('without a region' for events that have none)."""
    return region_name(config, slug, lang) if slug else ct("no_region", lang)


def type_name(config: Any, slug: str, lang: str) -> str:
    """An activity type's label in the middle of a sentence."""
    if not slug:
        return ct("unknown", lang)
    label = term_label(config, "activity_types", slug, lang)
    return label[:1].lower() + label[1:]


def sector_name(slug: str, lang: str) -> str:
    """A sector as a sentence names it: its slug (po, vo, mbo), or 'unknown'."""
    return slug or ct("unknown", lang)


def gap_sentence(gap: Gap, coverage: Coverage, config: Any, lang: str) -> str:
    """One gap in words: 'geen meeloopdag voor vo in Twente vóór maart'."""
    region = place_name(config, gap.region, lang)
    when = _when(gap, coverage, lang)
    if gap.sector == ANY:
        return ct("gap_any", lang, region=region, when=when)
    sector = sector_name(gap.sector, lang)
    if gap.activity_type == ANY:
        return ct("gap_sector", lang, sector=sector, region=region, when=when)
    kind = type_name(config, gap.activity_type, lang)
    return ct("gap_type", lang, type=kind, sector=sector, region=region, when=when)
