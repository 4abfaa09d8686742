"""Outgoing mail against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import pytest

from agenda.settings import Settings
from agenda.wiring import mailer
from aggregator.mail import (
    LogMailer,
    MailError,
    MailMessage,
    SmtpMailer,
    SmtpSettings,
    send_quietly,
    valid_address,
)
from tests.mailserver import SmtpServer, free_port

MESSAGE = MailMessage(
    to=("redactie@regio.example.nl",),
    subject="Bron ‘Meeloopdagen Twente’ faalt sinds 3 december",
    text="De bron geeft een fout: HTTP 503.\nWat te controleren: …",
    html="<p>De bron geeft een fout: <b>HTTP 503</b>.</p>",
)


def test_a_message_arrives_with_utf8_subject_text_and_html(smtp_server: SmtpServer) -> None:
    SmtpMailer(
        SmtpSettings(host=smtp_server.host, port=smtp_server.port, sender="agenda@example.nl")
    ).send(MESSAGE)
    (received,) = smtp_server.inbox.wait_for(1)
    assert received["Subject"] == MESSAGE.subject
    assert received["From"] == "agenda@example.nl"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_body(("plain",)).get_content().startswith("De bron geeft een fout")
    assert "<b>HTTP 503</b>" in received.get_body(("html",)).get_content()
    assert smtp_server.inbox.envelopes == [("agenda@example.nl", ["redactie@regio.example.nl"])]


def test_starttls_and_login(smtp_tls_server: SmtpServer) -> None:
    settings = SmtpSettings(
        host=smtp_tls_server.host,
        port=smtp_tls_server.port,
        sender="agenda@example.nl",
        starttls=True,
        username=smtp_tls_server.username,
        password=smtp_tls_server.password,
        tls_context=smtp_tls_server.tls_context,
    )
    SmtpMailer(settings).send(MESSAGE)
    assert len(smtp_tls_server.inbox.wait_for(1)) == 1


def test_a_server_that_requires_starttls_refuses_plain_mail(smtp_tls_server: SmtpServer) -> None:
    plain = SmtpSettings(host=smtp_tls_server.host, port=smtp_tls_server.port, sender="a@b.nl")
    with pytest.raises(MailError, match="not sent"):
        SmtpMailer(plain).send(MESSAGE)
    assert smtp_tls_server.inbox.messages == []


def test_an_unreachable_server_is_a_mail_error_and_send_quietly_survives_it() -> None:
    mailer_ = SmtpMailer(SmtpSettings(host="127.0.0.1", port=free_port(), sender="a@b.nl"))
    with pytest.raises(MailError, match="not sent"):
        mailer_.send(MESSAGE)
    assert send_quietly(mailer_, MESSAGE) is False


@pytest.mark.parametrize(
    "address",
    ["", "no-at-sign", "a@b.nl, c@d.nl", "Name <a@b.nl>", "a@b.nl\r\nBcc: x@y.nl", "a@localhost"],
)
def test_only_single_plain_addresses_are_accepted(address: str) -> None:
    with pytest.raises(ValueError, match="single e-mail address"):
        valid_address(address)


def test_header_injection_through_the_subject_is_flattened(smtp_server: SmtpServer) -> None:
    injected = MailMessage(to=("a@b.nl",), subject="Hallo\r\nBcc: victim@example.nl", text="x")
    SmtpMailer(
        SmtpSettings(host=smtp_server.host, port=smtp_server.port, sender="agenda@example.nl")
    ).send(injected)
    (received,) = smtp_server.inbox.wait_for(1)
    assert received["Bcc"] is None
    assert received["Subject"] == "Hallo Bcc: victim@example.nl"
    assert smtp_server.inbox.envelopes[0][1] == ["a@b.nl"]


def test_wiring_builds_smtp_only_when_a_host_is_set(smtp_server: SmtpServer) -> None:
    assert isinstance(mailer(Settings(SMTP_HOST="")), LogMailer)  # type: ignore[call-arg]
    configured = mailer(
        Settings(SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, MAIL_FROM="x@y.nl")  # type: ignore[call-arg]
    )
    configured.send(MESSAGE)
    assert smtp_server.inbox.wait_for(1)[0]["From"] == "x@y.nl"
