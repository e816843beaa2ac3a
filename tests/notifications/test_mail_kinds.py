"""Every kind of e-mail renders from the context its kind documents, in English and Polish,
including the kinds whose events other features will send (reflection, summary, retake)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.mentoring import booking, mail
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import MeetingMode
from lti_tool.notifications import sender
from lti_tool.notifications.kinds import KINDS, Kind
from lti_tool.notifications.outbox import enqueue
from tests.mentoring.sessions_kit import mentored_course
from tests.notifications.test_mail_delivery import parts

SAMPLE = {
    "other_name": "Maja <Mentor>", "course_title": "Design & Co", "start": "2027-01-15T09:00:00",
    "end": "2027-01-15T10:30:00", "zone": "Europe/Warsaw", "where": "Room 2.14",
    "reason": "Ill", "action_title": "Interview two users", "goal_title": "Empathy",
    "due_date": "2027-01-16", "target_date": "2027-01-15", "learner_name": "Ada",
    "for_learner": True,
}


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


@pytest.mark.parametrize("locale", ["en", "pl"])
def test_every_kind_renders_in_both_languages(course, smtp, mail_config, locale):
    course.learner.locale = locale
    db.session.commit()
    for kind in Kind:
        assert enqueue(kind, course.learner, {k: SAMPLE[k] for k in KINDS[kind].needs}
                       | {"for_learner": True}, "sample")
    db.session.commit()
    assert sender.send_due().sent == len(Kind)
    subjects = set()
    for message in smtp.messages:
        assert message["Content-Language"] == locale
        text = parts(message)["text/plain"].get_content()
        html = parts(message)["text/html"].get_content()
        assert "%(" not in message["Subject"] + text + html  # every placeholder filled
        assert "Design & Co" in text and "Design &amp; Co" in html
        assert message["List-Unsubscribe"]
        subjects.add(message["Subject"])
    assert len(subjects) == len(Kind)
    if locale == "pl":
        assert not any(subject.startswith(("Mentoring", "Due", "Overdue", "Reminder"))
                       for subject in subjects)


def test_the_summary_and_reflection_hooks_reach_the_learner_once(course, smtp, mail_config):
    session = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        start_dt=utcnow() + timedelta(days=3), minutes=60, mode=MeetingMode.IN_PERSON,
        location="Room 1", meeting_url="", agenda=""))
    assert mail.reflection_due(session) == 1 and mail.reflection_due(session) == 0
    assert mail.summary_published(session, course.mentor.id) == 1
    assert mail.summary_published(session, course.mentor.id) == 0
    db.session.commit()
    sender.send_due()
    subjects = sorted(m["Subject"].split(" ")[0] for m in smtp.messages
                      if m["To"].addresses[0].addr_spec == course.learner.email)
    assert subjects == ["Mentoring", "Summary", "Your"]
