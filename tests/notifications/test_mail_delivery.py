"""E-mails as a person receives them: a real SMTP server in-process receives what the worker
sends after a booking, a move or a cancellation, and each MIME part is checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.notifications import sender
from lti_tool.notifications.kinds import Kind
from lti_tool.notifications.models import MailStatus, Notification
from tests.mentoring.sessions_kit import booking_form, get, mentored_course, text_of, winter_day


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def book(client, course, day=None, clock="10:00", **extra) -> int:
    """The mentor books a session with the first learner through the booking form."""
    response = client.post("/mentor/sessions/", data=booking_form(
        course.mentor_token, course.learner.id, day or winter_day(), clock, **extra))
    assert response.status_code == 303, text_of(response)
    return int(response.headers["Location"].split("/mentor/sessions/")[1].split("?")[0])


def parts(message) -> dict[str, object]:
    """The message's parts by content type (text/plain, text/html, text/calendar)."""
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            found[part.get_content_type()] = part
    return found


def outbox() -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def test_a_booked_session_reaches_the_learner_with_text_html_and_an_invitation(
        client, course, smtp, mail_config):
    session_id = book(client, course, agenda="Review <b>the profile</b> & plan")
    assert smtp.messages == []  # nothing leaves before the worker runs
    report = sender.send_due()
    assert report.sent == 1
    [message] = smtp.messages
    assert message["To"].addresses[0].addr_spec == course.learner.email
    assert "Mentoring session booked" in message["Subject"]
    found = parts(message)
    assert set(found) == {"text/plain", "text/html", "text/calendar"}
    text = found["text/plain"].get_content()
    assert "Maja MentorA booked a mentoring session with you." in text
    assert "Review <b>the profile</b> & plan" in text  # plain text is not escaped
    html = found["text/html"].get_content()
    assert "Review &lt;b&gt;the profile&lt;/b&gt; &amp; plan" in html  # HTML is
    calendar_part = found["text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    invitation = Calendar.from_ical(calendar_part.get_content())
    assert invitation["METHOD"] == "REQUEST"
    [event] = invitation.walk("VEVENT")
    download = Calendar.from_ical(
        get(client, f"/plan/sessions/{session_id}/session.ics", course.learner_token).data)
    [downloaded] = download.walk("VEVENT")
    assert str(event["UID"]) == str(downloaded["UID"])
    assert event.decoded("DTSTART") == downloaded.decoded("DTSTART")
    [row] = outbox()
    assert row.status is MailStatus.SENT and message["Message-ID"] == row.message_id
    assert message["List-Unsubscribe"].startswith("<" + mail_config["TOOL_URL"] + "/mail/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Sent once: another pass finds nothing to send.
    assert sender.send_due().handled == 0 and len(smtp.messages) == 1


def test_a_cancelled_session_sends_method_cancel_with_the_same_uid(client, course, smtp,
                                                                   mail_config):
    session_id = book(client, course)
    sender.send_due()
    # The learner cancels (well before the guard time): the mentor is told.
    response = client.post(f"/plan/sessions/{session_id}/cancel",
                           data={"lt": course.learner_token, "reason": "I am ill <sorry>"})
    assert response.status_code == 303
    assert sender.send_due().sent == 1
    booked, cancelled = smtp.messages
    assert cancelled["To"].addresses[0].addr_spec == course.mentor.email
    assert "cancelled" in cancelled["Subject"]
    found = parts(cancelled)
    assert found["text/calendar"].get_param("method") == "CANCEL"
    calendar = Calendar.from_ical(found["text/calendar"].get_content())
    assert calendar["METHOD"] == "CANCEL"
    [event] = calendar.walk("VEVENT")
    [first] = Calendar.from_ical(parts(booked)["text/calendar"].get_content()).walk("VEVENT")
    assert str(event["UID"]) == str(first["UID"])
    assert int(event["SEQUENCE"]) > int(first["SEQUENCE"])
    assert "I am ill &lt;sorry&gt;" in found["text/html"].get_content()


def test_a_moved_session_sends_an_updated_invitation(client, course, smtp, mail_config):
    session_id = book(client, course)
    form = booking_form(course.mentor_token, course.learner.id, winter_day(), "14:00")
    response = client.post(f"/mentor/sessions/{session_id}/reschedule", data=form)
    assert response.status_code == 303
    assert sender.send_due().sent == 2
    moved = smtp.messages[1]
    # 14:00 in Warsaw (the mentor's zone); the learner's browser never reported one: UTC.
    assert moved["Subject"].startswith("Mentoring session changed: ")
    assert "13:00–14:30 UTC" in moved["Subject"]
    calendar = Calendar.from_ical(parts(moved)["text/calendar"].get_content())
    assert calendar["METHOD"] == "REQUEST"
    assert int(calendar.walk("VEVENT")[0]["SEQUENCE"]) == 1


def test_a_rolled_back_booking_sends_nothing(client, course, smtp, mail_config):
    book(client, course)
    # The same time again clashes: refused, rolled back, no e-mail for it.
    response = client.post("/mentor/sessions/", data=booking_form(
        course.mentor_token, course.learners[1].id, winter_day(), "10:00"))
    assert response.status_code == 409
    assert [n.recipient_id for n in outbox()] == [course.learner.id]


def test_with_the_mail_server_down_mail_waits_and_is_delivered_once_when_it_is_back(
        client, course, smtp, mail_config):
    smtp.stop()
    book(client, course)
    report = sender.send_due()
    assert report.retrying == 1 and report.sent == 0
    [row] = outbox()
    assert row.status is MailStatus.PENDING and row.attempts == 1
    assert "could not be reached" in row.last_error
    assert row.next_try_dt > utcnow()
    # Not due yet: a pass now leaves it alone.
    assert sender.send_due().handled == 0
    smtp.start()
    later = utcnow() + timedelta(hours=2)
    assert sender.send_due(later).sent == 1
    assert sender.send_due(later + timedelta(hours=1)).handled == 0
    assert len(smtp.messages) == 1
    [row] = outbox()
    assert row.status is MailStatus.SENT and row.attempts == 2


def test_a_refused_address_fails_at_once_and_a_busy_server_is_retried(client, course, smtp,
                                                                      mail_config):
    smtp.catcher.refuse_rcpt = "550 5.1.1 No such mailbox"
    book(client, course)
    assert sender.send_due().failed == 1
    [row] = outbox()
    assert row.status is MailStatus.FAILED and "550" in row.last_error
    smtp.catcher.refuse_rcpt = "451 4.3.0 Try again later"
    book(client, course, clock="14:00")
    assert sender.send_due().retrying == 1
    assert outbox()[1].status is MailStatus.PENDING
    smtp.catcher.refuse_rcpt = None
    assert sender.send_due(utcnow() + timedelta(hours=1)).sent == 1
    assert len(smtp.messages) == 1


def test_retries_stop_after_mail_retry_hours(client, course, smtp, mail_config, monkeypatch):
    monkeypatch.setitem(mail_config, "MAIL_RETRY_HOURS", 2)
    smtp.stop()
    book(client, course)
    sender.send_due()
    assert sender.send_due(utcnow() + timedelta(hours=3)).failed == 1
    assert "gave up after 2 h" in outbox()[0].last_error


def test_the_same_occurrence_is_enqueued_once(app, course, mail_config):
    from lti_tool.notifications.outbox import enqueue

    context = {"course_title": "Design"}
    assert enqueue(Kind.RETAKE_OPEN, course.learner, context, "attempt-2")
    assert not enqueue(Kind.RETAKE_OPEN, course.learner, context, "attempt-2")
    assert enqueue(Kind.RETAKE_OPEN, course.learner, context, "attempt-3")
    db.session.commit()
    assert len(outbox()) == 2


def test_a_context_missing_what_the_templates_need_is_refused(app, course, mail_config):
    from lti_tool.notifications.outbox import BadNotification, enqueue

    with pytest.raises(BadNotification, match="course_title"):
        enqueue(Kind.RETAKE_OPEN, course.learner, {}, "x")


def test_without_a_mail_server_nothing_is_queued(client, course):
    book(client, course)
    assert outbox() == []
