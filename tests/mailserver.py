"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mail tests.

``smtp_server`` gives a plain server; ``smtp_tls_server`` one that requires STARTTLS with a
certificate from a throwaway CA (trustme) and a login, and the client TLS context that
trusts it.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Inbox:
    """What one loopback SMTP server received, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the parsed message and its envelope."""
        content = envelope.original_content or envelope.content
        self.messages.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until ``count`` messages arrived (or fail after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mails, got {len(self.messages)}")
            time.sleep(0.02)
        return self.messages


@dataclass
class SmtpServer:
    """A running loopback SMTP server: where it listens and what it received."""

    host: str
    port: int
    inbox: Inbox
    tls_context: ssl.SSLContext | None = None  # the client context that trusts its certificate
    username: str | None = None
    password: str | None = None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


USER, PASSWORD = "agenda-mail", "Sm7p-test-secret"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on loopback (no TLS, no login)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=controller.port, inbox=inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp_tls_server() -> Iterator[SmtpServer]:
    """An SMTP server on loopback that requires STARTTLS and then a login."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield SmtpServer(
            host="127.0.0.1",
            port=controller.port,
            inbox=inbox,
            tls_context=client_context,
            username=USER,
            password=PASSWORD,
        )
    finally:
        controller.stop()
