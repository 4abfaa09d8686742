"""Outgoing e-mail: one small interface for every notification the service sends.

Source-health mails to owners and editors, and submission mails to editors and submitters,
all go through a :class:`Mailer`. The composition root builds an :class:`SmtpMailer` when
an SMTP host is configured and a :class:`LogMailer` otherwise, so the embedded default runs
without a mail server and says in its log what it would have sent.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

log = logging.getLogger(__name__)

MAX_SUBJECT = 200  # characters; longer subjects are cut (clients truncate them anyway)


class MailError(Exception):
    """A message could not be handed to the mail server (reason in the message)."""


@dataclass(frozen=True)
class MailMessage:
    """One message: plain text always, HTML optionally (sent as multipart/alternative)."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Mailer(Protocol):
    """Something that delivers a :class:`MailMessage` or raises :class:`MailError`."""

    def send(self, message: MailMessage) -> None:
        """Deliver ``message``; raise :class:`MailError` when it could not be handed over."""
        ...


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server (``host`` empty: mail is off)."""

    host: str
    sender: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    # the TLS context for STARTTLS (None: the system's default trust store)
    tls_context: ssl.SSLContext | None = None


def valid_address(value: str) -> str:
    """Return ``value`` as a bare addr-spec, or raise ValueError when it is not one address.

    Rejects display names, several addresses and line breaks, so that no address taken
    from configuration or a form can add headers or recipients.
    """
    text = value.strip()
    if not text or any(ch in text for ch in '\r\n,;<>"()') or text.count("@") != 1:
        raise ValueError(f"not a single e-mail address: {value!r}")
    try:
        address = Address(addr_spec=text)
    except (ValueError, HeaderParseError) as exc:
        raise ValueError(f"not a single e-mail address: {value!r}") from exc
    if not address.username or "." not in address.domain:
        raise ValueError(f"not a single e-mail address: {value!r}")
    return address.addr_spec


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def build_message(message: MailMessage, *, sender: str) -> EmailMessage:
    """The RFC 5322 message for ``message`` from ``sender`` (addresses checked, subject on
    one line, UTF-8 throughout)."""
    if not message.to:
        raise MailError("a message needs at least one recipient")
    try:
        recipients = [valid_address(address) for address in message.to]
        from_address = valid_address(sender)
        reply_to = valid_address(message.reply_to) if message.reply_to else None
    except ValueError as exc:
        raise MailError(str(exc)) from exc
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = ", ".join(dict.fromkeys(recipients))
    email["Subject"] = _one_line(message.subject, MAX_SUBJECT)
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2])
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    if reply_to:
        email["Reply-To"] = reply_to
    for name, value in message.headers.items():
        email[name] = _one_line(value, 998)
    email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpMailer:
    """Deliver through an SMTP server (optionally STARTTLS and login), one connection a message."""

    def __init__(self, settings: SmtpSettings) -> None:
        """Keep the settings; nothing connects until :meth:`send`."""
        self.settings = settings

    def send(self, message: MailMessage) -> None:
        """Hand ``message`` to the server; raise :class:`MailError` on any failure."""
        settings = self.settings
        email = build_message(message, sender=settings.sender)
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
                if settings.starttls:
                    smtp.starttls(context=settings.tls_context or ssl.create_default_context())
                if settings.username:
                    smtp.login(settings.username, settings.password or "")
                refused = smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"mail to {email['To']} not sent: {exc}") from exc
        if refused:
            log.warning("mail server refused some recipients: %s", sorted(refused))


class LogMailer:
    """No SMTP server configured: log what would have been sent, deliver nothing."""

    def send(self, message: MailMessage) -> None:
        """Log the recipients and subject of ``message`` (the body stays out of the log)."""
        log.info(
            "mail is not configured (SMTP_HOST): not sent to %s: %s",
            ", ".join(message.to),
            _one_line(message.subject, MAX_SUBJECT),
        )


def send_quietly(mailer: Mailer, message: MailMessage) -> bool:
    """Send ``message``; log and return False instead of raising when it fails.

    For notifications that must never fail the action that caused them (a harvest, a
    moderation decision).
    """
    try:
        mailer.send(message)
    except MailError as exc:
        log.warning("%s", exc)
        return False
    return True
