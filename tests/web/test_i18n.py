"""The UI string table: every key used by a template or module exists in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from api.i18n import STRINGS, long_date, t

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (ROOT / "api", ROOT / "forms")
_KEY = re.compile(r"""\bt\(\s*['"]([a-z_0-9]+)['"]""")


def test_every_used_key_exists() -> None:
    used: set[str] = set()
    for path in [p for d in PACKAGES for p in (*d.glob("templates/*.html"), *d.glob("*.py"))]:
        used |= set(_KEY.findall(path.read_text(encoding="utf-8")))
    assert used, "no keys found: the pattern is wrong"
    prefixes = {key for key in used if key.endswith("_")}  # t('f_' ~ name) and the like
    assert prefixes <= {"f_", "kind_", "status_", "state_", "role_", "lang_"}
    assert sorted(used - prefixes - STRINGS.keys()) == []


def test_dynamic_key_families_are_complete() -> None:
    from aggregator.accounts import ROLES
    from aggregator.health import STATES
    from forms.submit_form import FORM_ORDER

    error_fields = [*FORM_ORDER, "submitter_email", "reason", "url", "name", "kind"]
    families = {
        "f_": error_fields,
        "kind_": ["event", "source"],
        "status_": ["pending", "approved", "rejected"],
        "state_": list(STATES),
        "role_": list(ROLES),
        "lang_": ["nl", "en"],
    }
    missing = [p + v for p, values in families.items() for v in values if p + v not in STRINGS]
    assert missing == []


def test_every_string_has_dutch_and_english() -> None:
    for key, (nl, en) in STRINGS.items():
        assert nl.strip() and en.strip(), key


def test_lookup_and_dates() -> None:
    assert t("results_count", "nl", n=3) == "3 activiteiten gevonden"
    assert t("results_count", "en", n=3) == "3 activities found"
    assert t("no_such_key", "nl") == "no_such_key"
    from datetime import date

    assert long_date(date(2027, 6, 21), "nl") == "maandag 21 juni 2027"
    assert long_date(date(2027, 6, 21), "en") == "Monday 21 June 2027"
