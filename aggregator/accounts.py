"""Accounts of admins and region editors: password hashing and user data functions."""

from __future__ import annotations

import gzip
import re
from collections.abc import Collection
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine
from sqlmodel import Session, select

from aggregator.db import session_scope
from aggregator.models import User
from aggregator.submissions import RateLimit, check_rate
from config import bundled

ROLES = ("admin", "editor", "submitter")
MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# argon2-cffi's defaults: RFC 9106's second recommended profile (64 MiB, 3 passes, 4 lanes)
_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account cannot be created as asked (bad e-mail, weak password, unknown role)."""


class PasswordRefused(AccountError):
    """A password the policy refuses; ``code`` and ``params`` let a page say why in its
    own language (the message is the English sentence)."""

    def __init__(self, message: str, code: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def use_hash_parameters(*, time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Hash new passwords with these Argon2id costs (memory in KiB) from now on.

    Production keeps argon2-cffi's defaults; the test suite sets the cheapest costs, since
    a full-cost hash takes a good part of a second on a small machine. Existing hashes keep
    verifying (their parameters are stored in them); a login with a hash made at other
    costs rehashes it at these.
    """
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _dummy_hash.cache_clear()


MIN_DISTINCT_CHARACTERS = 5


@cache
def common_passwords() -> frozenset[str]:
    """The 20,000 common passwords bundled from Django (``config/common-passwords.txt.gz``,
    BSD-3-Clause, see ``config/common-passwords.LICENSE``), lower-cased."""
    with gzip.open(bundled("common-passwords.txt.gz"), "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def check_password(password: str, *, email: str = "") -> None:
    """Raise AccountError unless the password is long, varied and not a common one.

    At least ``MIN_PASSWORD_LENGTH`` characters, ``MIN_DISTINCT_CHARACTERS`` different
    ones ("aaaaaaaaaa" and "1212121212" are refused), not in the common-password list
    (compared case-insensitively, also without trailing digits) and not the e-mail address.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRefused(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
            "short",
            n=MIN_PASSWORD_LENGTH,
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise PasswordRefused(
            f"the password needs at least {MIN_DISTINCT_CHARACTERS} different characters",
            "varied",
            n=MIN_DISTINCT_CHARACTERS,
        )
    folded = password.strip().lower()
    common = common_passwords()
    if folded in common or folded.rstrip("0123456789!") in common:
        raise PasswordRefused("the password is one of the most common passwords", "common")
    name = normalise_email(email).split("@", 1)[0]
    if email and (folded == normalise_email(email) or (len(name) >= 4 and name in folded)):
        raise PasswordRefused("the password may not contain the e-mail address", "email")


def hash_password(password: str) -> str:
    """Hash a password with Argon2id (salted, parameters stored in the hash)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    """E-mail addresses compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    role: str,
    region: str | None = None,
    trusted: bool = False,
) -> User:
    """Add an account; an editor needs a region. Raises AccountError with the reason."""
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role == "editor" and not region:
        raise AccountError("a region editor needs a region")
    check_password(password, email=email)
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise AccountError(f"an account for {email} already exists")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        region=region,
        trusted=trusted or role in ("admin", "editor"),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (the same answer for any failure)."""
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        # spend the same time as a real check, so the answer does not reveal the account
        verify_password(_dummy_hash(), password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    session.add(user)
    return user


def log_in(
    *, session: Session, email: str, password: str, client: str, limit: RateLimit, now: datetime
) -> User | None:
    """``authenticate`` within the limit of login attempts, counted per client address and
    per account (RateLimited when over either; the attempt is not checked then).

    Per address stops one client guessing many accounts; per account stops many
    addresses (a botnet, or one client behind changing proxies) guessing one password.
    """
    check_rate(session=session, client=client, action="login", limit=limit, now=now)
    account = normalise_email(email)
    check_rate(session=session, client=account, action="login-account", limit=limit, now=now)
    return authenticate(session=session, email=email, password=password)


def end_sessions(*, session: Session, user_id: int) -> None:
    """Invalidate every session cookie of a user (logout; a changed password would too)."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_version += 1
        session.add(user)


def change_password(*, session: Session, user_id: int, current: str, new: str) -> int:
    """Set a new password after checking the current one; every session of the user ends.

    Returns the new session version, for the one session that made the change to carry on.
    Raises ``PasswordRefused`` (code ``wrong``, ``same`` or the policy's) with the reason.
    """
    user = session.get(User, user_id)
    if user is None or not user.active or not verify_password(user.password_hash, current):
        raise PasswordRefused("the current password is not right", "wrong")
    if new == current:
        raise PasswordRefused("the new password is the same as the current one", "same")
    check_password(new, email=user.email)
    user.password_hash = hash_password(new)
    user.session_version += 1
    session.add(user)
    return user.session_version


def moderator_addresses(*, session: Session, region: str) -> list[str]:
    """Who is told of a new submission in ``region``: its active editors, or, when the
    region has none, every active admin (so no submission waits unseen)."""
    editors = session.exec(
        select(User.email).where(User.role == "editor", User.region == region, User.active)
    ).all()
    if editors:
        return sorted(editors)
    return sorted(session.exec(select(User.email).where(User.role == "admin", User.active)).all())


def can_moderate(user: User, region: str) -> bool:
    """Admins moderate every region; an editor only their own."""
    if user.role == "admin":
        return True
    return user.role == "editor" and user.region == region


USER_ACTIONS = ("trust", "block")


def change_user(*, session: Session, admin: User, user_id: int, action: str) -> User | None:
    """Toggle an account's trust (``trust``) or block it or unblock it (``block``).

    None when there is no such account; AccountError for an unknown action, or when an
    admin would block their own account.
    """
    target = session.get(User, user_id)
    if target is None:
        return None
    if action == "trust":
        target.trusted = not target.trusted
    elif action == "block" and target.id != admin.id:
        target.active = not target.active
    else:
        raise AccountError(f"unknown action {action!r}")
    session.add(target)
    return target


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a real password, only for timing")


def create_account(
    *,
    engine: Engine,
    email: str,
    password: str,
    role: str,
    region: str | None,
    trusted: bool,
    regions: Collection[str],
) -> User:
    """Create an account in a transaction of its own (``agenda users``).

    Raises AccountError for an unknown region or whatever ``create_user`` refuses.
    """
    if region is not None and region not in regions:
        raise AccountError(f"unknown region {region!r}")
    with session_scope(engine) as session:
        return create_user(
            session=session,
            email=email,
            password=password,
            role=role,
            region=region,
            trusted=trusted,
        )
