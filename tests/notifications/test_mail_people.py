"""Whom e-mails reach and in what language: the unsubscribe link (no launch), the settings
page, the recipient's language, and people whose platform withholds their address."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.notifications import sender
from lti_tool.notifications.models import MailPreference, Notification
from tests.mentoring.sessions_kit import get, mentored_course, text_of
from tests.notifications.test_mail_delivery import book, parts


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def unsubscribe_link(message) -> str:
    return message["List-Unsubscribe"].strip("<>")


def test_the_unsubscribe_link_works_without_a_launch_and_stops_that_kind_only(
        app, client, course, smtp, mail_config):
    session_id = book(client, course)
    sender.send_due()
    link = unsubscribe_link(smtp.messages[0])
    assert link in parts(smtp.messages[0])["text/plain"].get_content()
    path = link.removeprefix(mail_config["TOOL_URL"])
    fresh = app.test_client()  # no cookie, no launch token
    page = fresh.get(path)
    assert page.status_code == 200
    assert "A mentoring session is booked" in text_of(page)
    # A GET (a link preview, a mail scanner) changes nothing.
    assert db.session.scalars(select(MailPreference)).all() == []
    done = fresh.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more e-mails of this kind" in text_of(done)
    # Booking again sends the learner nothing; a cancellation still reaches them.
    book(client, course, clock="15:00")
    assert sender.send_due().handled == 0
    response = client.post(f"/mentor/sessions/{session_id}/cancel",
                           data={"lt": course.mentor_token, "reason": "Room closed"})
    assert response.status_code == 303
    assert sender.send_due().sent == 1
    assert [m["Subject"].split(":")[0] for m in smtp.messages] == [
        "Mentoring session booked", "Mentoring session cancelled"]


def test_a_forged_or_altered_unsubscribe_token_is_refused(app, client, course, smtp,
                                                         mail_config):
    book(client, course)
    sender.send_due()
    path = unsubscribe_link(smtp.messages[0]).removeprefix(mail_config["TOOL_URL"])
    fresh = app.test_client()
    assert fresh.post(path[:-2] + "xx").status_code == 404
    assert fresh.post("/mail/unsubscribe/WzEsInNlc3Npb25fYm9va2VkIl0").status_code == 404
    assert db.session.scalars(select(MailPreference)).all() == []


def test_a_kind_turned_off_after_it_was_queued_is_not_sent(client, course, smtp, mail_config):
    book(client, course)
    fresh_path = "/mail/settings"
    page = get(client, fresh_path, course.learner_token)
    assert page.status_code == 200
    assert "learner0.a@example.edu" in text_of(page)
    # Every kind stays ticked but "booked".
    kinds = [k for k in ("session_moved", "session_cancelled", "session_reminder")]
    response = client.post(fresh_path, data={"lt": course.learner_token, "kind": kinds})
    assert response.status_code == 303
    assert "are saved" in text_of(client.get(response.headers["Location"]))
    report = sender.send_due()
    assert report.skipped == 1 and smtp.messages == []
    row = db.session.scalar(select(Notification))
    assert row.last_error == "Turned off by the person."


def test_the_settings_page_is_linked_from_the_plan_and_the_mentor_menu(client, course):
    plan = get(client, "/plan/", course.learner_token).get_data(as_text=True)
    assert "/mail/settings?lt=" in plan
    cohort = get(client, "/mentor/", course.mentor_token).get_data(as_text=True)
    assert "/mail/settings?lt=" in cohort
    mentor = get(client, "/mail/settings", course.mentor_token)
    assert mentor.status_code == 200 and 'aria-current="page">E-mail settings' in mentor.text
    assert client.get("/mail/settings").status_code == 401


def test_a_polish_recipient_gets_polish(client, course, smtp, mail_config):
    course.learner.locale = "pl-PL"
    db.session.commit()
    book(client, course, agenda="")
    sender.send_due()
    [message] = smtp.messages
    assert message["Content-Language"] == "pl"
    assert message["Subject"].startswith("Zarezerwowano sesję mentorską")
    text = parts(message)["text/plain"].get_content()
    assert "Dzień dobry LearnerA0 Kowalska," in text
    assert "stycznia" in text  # the month named in Polish
    assert "Europe/Warsaw" not in text and "CET" in text  # a Polish locale's usual zone
    html = parts(message)["text/html"].get_content()
    assert '<html lang="pl">' in html


def test_no_address_nothing_is_sent_and_the_mentor_sees_it(client, course, smtp, mail_config):
    course.learner.email = None
    db.session.commit()
    book(client, course)
    assert db.session.scalars(select(Notification)).all() == []
    assert sender.send_due().handled == 0 and smtp.messages == []
    cohort = text_of(get(client, "/mentor/", course.mentor_token))
    assert cohort.count("Cannot be e-mailed") == 1  # the other learner has an address
    learner = text_of(get(client, f"/mentor/learners/{course.learner.id}", course.mentor_token))
    assert "Cannot be e-mailed" in learner
    other = text_of(get(client, f"/mentor/learners/{course.learners[1].id}", course.mentor_token))
    assert "Cannot be e-mailed" not in other
    page = text_of(get(client, "/mail/settings", course.learner_token))
    assert "does not share your e-mail address" in page


def test_an_address_removed_after_queueing_is_skipped(client, course, smtp, mail_config):
    book(client, course)
    course.learner.email = ""
    db.session.commit()
    assert sender.send_due().skipped == 1 and smtp.messages == []
