"""Mail fixtures: a real SMTP server in-process (aiosmtpd) that keeps what it receives, and
the tool configured to send to it."""

from __future__ import annotations

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.mentoring.conftest import (  # noqa: F401
    launch_of,
    make_activity,
    make_person,
    take,
    token_for,
)
from tests.processes import free_port


class Catcher:
    """An aiosmtpd handler that parses and keeps every message it accepts.

    `hold_rcpt` / `hold_data` (threading.Event) make the server wait at RCPT TO or after the
    data has arrived, before answering, until the event is set: a worker can be killed there.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.data_calls = 0
        #: Every message whose data arrived, accepted or not (a dead client's too).
        self.received: list[bytes] = []
        self.hold_rcpt: threading.Event | None = None
        self.hold_data: threading.Event | None = None
        self.at_rcpt = threading.Event()
        self.at_data = threading.Event()
        self.refuse_rcpt: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.at_rcpt.set()
        if self.hold_rcpt is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold_rcpt.wait, 30)
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        self.received.append(envelope.content)
        self.at_data.set()
        if self.hold_data is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold_data.wait, 30)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SMTPServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.catcher = Catcher()
        self.controller: Controller | None = None

    def start(self) -> None:
        """Listen (again)."""
        self.controller = Controller(self.catcher, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening: the tool's connections are refused."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received, in order."""
        return self.catcher.messages


@pytest.fixture
def smtp():
    """A running SMTP server, stopped after the test."""
    server = SMTPServer()
    server.start()
    yield server
    for event in (server.catcher.hold_rcpt, server.catcher.hold_data):
        if event is not None:
            event.set()
    server.stop()


@pytest.fixture
def mail_config(app, smtp, monkeypatch):
    """The tool sends to the test server (plain SMTP on 127.0.0.1, no login)."""
    for key, value in {"MAIL_HOST": "127.0.0.1", "MAIL_PORT": smtp.port,
                       "MAIL_SECURITY": "none", "MAIL_USER": "", "MAIL_PASSWORD": "",
                       "MAIL_FROM": "Design Mindset Detector <dmd@example.edu>",
                       "MAIL_TIMEOUT_SECONDS": 10}.items():
        monkeypatch.setitem(app.config, key, value)
    return app.config
