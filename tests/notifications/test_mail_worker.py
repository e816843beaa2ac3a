"""The mail worker as a process, as an operator runs it: killed while the mail server is
receiving a message it never sends that message twice; killed before, it loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.notifications import sender
from lti_tool.notifications.models import MailStatus, Notification
from tests.mentoring.sessions_kit import mentored_course
from tests.notifications.test_mail_delivery import book

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def flask(app, *args: str) -> subprocess.Popen:
    """`flask ...` in its own process, on the test database and the test mail server."""
    env = dict(os.environ)
    env.update({
        "LTI_TOOL_CONFIG": str(ROOT / "instance" / "no-such-config.toml"),
        "LTI_TOOL_SECRET_KEY": app.config["SECRET_KEY"],
        "LTI_TOOL_TOOL_URL": app.config["TOOL_URL"],
        "LTI_TOOL_ENV": "test",
        "LTI_TOOL_KEYS_DIR": app.config["KEYS_DIR"],
        "LTI_TOOL_LOG_LEVEL": "INFO",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    })
    for key in ("MAIL_HOST", "MAIL_PORT", "MAIL_SECURITY", "MAIL_FROM"):
        env["LTI_TOOL_" + key] = str(app.config[key])
    command = [str(Path(sys.executable).with_name("flask")), "--app", "lti_tool", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def row() -> Notification:
    db.session.expire_all()
    return db.session.scalar(select(Notification))


def kill(worker: subprocess.Popen) -> None:
    worker.kill()
    worker.wait(10)


def test_a_worker_killed_while_the_server_receives_the_message_never_sends_it_twice(
        app, client, course, smtp, mail_config):
    import threading

    book(client, course)
    smtp.catcher.hold_data = threading.Event()
    worker = flask(app, "notifications", "send")
    # The whole message has reached the server, which has not answered yet: kill there.
    assert smtp.catcher.at_data.wait(30)
    kill(worker)
    smtp.catcher.hold_data.set()
    # The server holds the whole message; whether it delivers it, the tool cannot know.
    assert len(smtp.catcher.received) == 1
    assert row().status is MailStatus.SENDING
    # Whatever runs next does not send it again ...
    assert sender.send_due().handled == 0
    again = flask(app, "notifications", "send")
    output, _ = again.communicate(timeout=30)
    assert "0 e-mail(s)" in output, output
    # ... and once the lease is over it is marked uncertain, for an operator, never resent.
    report = sender.send_due(utcnow() + sender.SENDING_LEASE + timedelta(minutes=1))
    assert report.uncertain == 1 and report.handled == 0
    assert row().status is MailStatus.UNCERTAIN
    assert smtp.catcher.data_calls == 1 and len(smtp.catcher.received) == 1
    status = flask(app, "notifications", "status")
    output, _ = status.communicate(timeout=30)
    assert "uncertain: 1" in output and "it may have arrived" in output


def test_a_worker_killed_before_the_data_loses_nothing_and_sends_it_once(
        app, client, course, smtp, mail_config):
    import threading

    book(client, course)
    smtp.catcher.hold_rcpt = threading.Event()
    worker = flask(app, "notifications", "send")
    assert smtp.catcher.at_rcpt.wait(30)
    kill(worker)
    smtp.catcher.hold_rcpt.set()
    assert row().status is MailStatus.PENDING and row().attempts == 0
    smtp.catcher.hold_rcpt = None
    assert sender.send_due().sent == 1
    assert sender.send_due().handled == 0
    assert len(smtp.messages) == 1 and smtp.catcher.data_calls == 1


def test_flask_worker_sends_mail_and_stops_cleanly_on_sigterm(app, client, course, smtp,
                                                              mail_config):
    worker = flask(app, "worker", "--poll", "0.2")
    try:
        book(client, course)
        wait_for(lambda: len(smtp.messages) == 1)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "Worker: grades, housekeeping, mail scan, mail every 0.2 s" in output
    assert "1 mail" in output
    assert row().status is MailStatus.SENT
