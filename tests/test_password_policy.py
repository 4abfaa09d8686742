"""The password policy: long, varied, not among the bundled common passwords, not the e-mail."""

from __future__ import annotations

import gzip

import pytest

from aggregator.accounts import AccountError, check_password, common_passwords
from config import bundled


@pytest.mark.parametrize(
    "password,reason",
    [
        ("short", "at least 10 characters"),
        ("aaaaaaaaaa", "5 different characters"),
        ("1212121212", "5 different characters"),
        ("password123", "most common"),
        ("Qwertyuiop", "most common"),
        ("iloveyou2027", "most common"),
        ("jan.jansen!2027", "e-mail address"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(AccountError, match=reason):
        check_password(password, email="Jan.Jansen@example.org")


def test_long_varied_uncommon_passwords_pass() -> None:
    for password in ("correct horse battery", "Zij-instroom in 2027!"):
        check_password(password, email="jan.jansen@example.org")


def test_the_bundled_list_is_read_whole() -> None:
    with gzip.open(bundled("common-passwords.txt.gz"), "rt", encoding="utf-8") as lines:
        raw = [line.strip() for line in lines if line.strip()]
    assert len(raw) > 19_000 and len(common_passwords()) == len({p.lower() for p in raw})
