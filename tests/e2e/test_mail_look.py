# ruff: noqa: F811  (the fixtures imported below are requested by name)
"""How a reminder e-mail looks: its HTML part rendered in Chromium, readable on a phone,
photographed for the README (docs/screenshots/reminder-email.png, see test_look.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.mentoring import booking, mail
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import MeetingMode
from lti_tool.notifications import sender
from tests.e2e.test_look import screenshot
from tests.mentoring.sessions_kit import mentored_course
from tests.notifications.conftest import (  # noqa: F401
    mail_config,
    make_activity,
    make_person,
    smtp,
    token_for,
)
from tests.notifications.test_mail_delivery import parts

pytestmark = pytest.mark.e2e


def test_a_reminder_email_reads_well_on_a_desktop_and_a_phone(
        browser, make_activity, make_person, token_for, smtp, mail_config,
        screenshots_dir):
    course = mentored_course(make_activity, make_person, token_for)
    start = (utcnow() + timedelta(hours=20)).replace(minute=0, second=0, microsecond=0)
    booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        start_dt=start, minutes=90, mode=MeetingMode.ONLINE, location="",
        meeting_url="https://meet.example.edu/maja-mentor",
        agenda="- Your strengths: empathy and collaboration\n- One goal for the next month"))
    db.session.commit()
    mail.scan()
    db.session.commit()
    sender.send_due()
    reminder = next(m for m in smtp.messages if m["Subject"].startswith("Reminder")
                    and m["To"].addresses[0].addr_spec == course.learner.email)
    html = parts(reminder)["text/html"].get_content()
    for width, height in ((720, 760), (360, 800)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_content(html)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Your mentoring session is coming up")
        expect(page.get_by_role("link", name="https://meet.example.edu/maja-mentor")).to_be_visible()
        expect(page.get_by_role("link", name="Stop e-mails like this")).to_be_visible()
        # No sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 720:
            screenshot(page, "reminder-email", screenshots_dir)
        context.close()
