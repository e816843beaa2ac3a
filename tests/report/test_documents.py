"""The profile and plan PDFs and the plan's .ics: what a learner and a mentor download."""

from __future__ import annotations

import http.server
import io
import re
import threading
from datetime import timedelta

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from lti_tool.extensions import db
from lti_tool.identity.models import Role, utcnow
from lti_tool.lti.session import start_session
from lti_tool.mentoring import booking, goals, notes
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.goals import ActionDraft, GoalDraft
from lti_tool.mentoring.models import ActionOwner, GoalStatus, MeetingMode
from lti_tool.questionnaire.results import results_view
from lti_tool.report import documents
from tests.mentoring.conftest import INSTRUMENT, leaning_answers
from tests.mentoring.sessions_kit import get, in_days, mentored_course


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def make_goal(course, title="Interview three users"):
    made = goals.create_goal(course.mentor_launch, course.learner.id, GoalDraft(
        title=title, dimension_ids=("empathy",), specific="Talk to three users",
        measurable="Three interview notes", achievable="", relevant="",
        target_date=utcnow().date() + timedelta(weeks=6), status=GoalStatus.ACTIVE))
    goals.add_action(course.mentor_launch, made.id, ActionDraft(
        "Interview Ann", ActionOwner.LEARNER, utcnow().date() + timedelta(days=10)))
    goals.add_action(course.mentor_launch, made.id, ActionDraft(
        "Send a guide", ActionOwner.MENTOR, None))
    db.session.commit()
    return made


def test_the_learner_downloads_a_tagged_profile_with_every_score(client, course, take):
    attempt = take(course.activity, course.learner,
                   leaning_answers(high="empathy", low="ambiguity"))
    view = results_view(attempt, "en")

    response = get(client, f"/report/attempts/{attempt.id}/profile.pdf", course.learner_token)
    text = pdf_text(response)

    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert course.learner.display_name in text
    for dimension in view.dimensions:
        assert dimension.name in text
        assert dimension.score_text in text, dimension.score_text
    assert "Strengths" in text and "Areas to develop" in text
    strength = view.strengths[0]
    assert strength.in_a_team[:40] in text
    area = view.areas[0]
    assert area.suggestions[0][:40] in text
    # Tagged for assistive technology, with the document's language.
    catalog = PdfReader(io.BytesIO(response.data)).trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en"


def test_the_profile_speaks_the_viewers_language(client, course, take):
    attempt = take(course.activity, course.learner)
    token = start_session(
        course.learner, course.activity.deployment.id, course.activity.course,
        course.activity.link, Role.LEARNER, "LtiResourceLinkRequest",
        {"https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {"locale": "pl"}})
    db.session.commit()

    response = get(client, f"/report/attempts/{attempt.id}/profile.pdf", token)
    text = pdf_text(response)

    assert "Profil nastawienia Design Thinking" in text and "sporządzono" in text
    assert PdfReader(io.BytesIO(response.data)).trailer["/Root"]["/Lang"] == "pl"
    assert INSTRUMENT.dimensions[0].name.get("pl") in text


def test_the_plan_pdf_holds_goals_actions_and_sessions_but_no_mentor_notes(client, course,
                                                                            take):
    take(course.activity, course.learner)
    make_goal(course)
    session = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        in_days(5), 90, MeetingMode.IN_PERSON, "Room 2.14", "", "Review"))
    db.session.flush()
    notes.add_note(course.mentor_launch, session.id, "learner", "Shared canary LEARNERNOTE")
    notes.add_note(course.mentor_launch, session.id, "mentors", "Canary MENTORSNOTE")
    notes.add_note(course.mentor_launch, session.id, "author", "Canary AUTHORNOTE")
    db.session.commit()

    for path, token in (("/report/plan.pdf", course.learner_token),
                        (f"/report/learners/{course.learner.id}/plan.pdf", course.mentor_token)):
        text = pdf_text(get(client, path, token))
        assert course.learner.display_name in text
        assert "Interview three users" in text and "Talk to three users" in text
        assert "Interview Ann" in text and "Send a guide" in text
        assert course.mentor.display_name in text
        assert "LEARNERNOTE" in text
        assert "MENTORSNOTE" not in text and "AUTHORNOTE" not in text


def test_the_mentor_downloads_a_learners_profile(client, course, take):
    attempt = take(course.activity, course.learner)

    text = pdf_text(get(client, f"/report/learners/{course.learner.id}/attempts/{attempt.id}"
                                "/profile.pdf", course.mentor_token))

    assert course.learner.display_name in text


def test_no_one_downloads_what_they_may_not_see(client, course, take, make_activity,
                                                 make_person, token_for):
    attempt = take(course.activity, course.learner)
    other = take(course.activity, course.learners[1])
    elsewhere = mentored_course(make_activity, make_person, token_for, label="B")
    mentor_paths = (f"/report/learners/{course.learner.id}/attempts/{attempt.id}/profile.pdf",
                    f"/report/learners/{course.learner.id}/plan.pdf")

    # Another learner's attempt looks like one that does not exist.
    assert get(client, f"/report/attempts/{other.id}/profile.pdf",
               course.learner_token).status_code == 404
    # A learner never reaches the mentor's downloads.
    for path in mentor_paths:
        assert get(client, path, course.learner_token).status_code == 403
    # Another course's mentor gets 404 for this course's learner.
    for path in mentor_paths:
        assert get(client, path, elsewhere.mentor_token).status_code == 404
    # The attempt must be the learner's own, not any attempt id of the course.
    assert get(client, f"/report/learners/{course.learner.id}/attempts/{other.id}/profile.pdf",
               course.mentor_token).status_code == 404


def test_the_plan_ics_holds_sessions_and_open_due_dates(client, course):
    made = make_goal(course)
    kept = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        in_days(5), 90, MeetingMode.IN_PERSON, "Room 2.14", "", "Review"))
    dropped = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        in_days(9), 90, MeetingMode.IN_PERSON, "Room 2.14", "", "Review"))
    db.session.flush()
    booking.cancel_session(course.mentor_launch, dropped.id, "Ill")
    db.session.commit()

    response = get(client, "/plan/plan.ics", course.learner_token)

    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = Calendar.from_ical(response.data).walk("VEVENT")
    uids = {str(event["uid"]) for event in events}
    assert kept.uid in uids and dropped.uid not in uids
    due = [event for event in events if str(event["summary"]).startswith("Due:")]
    assert [str(event["summary"]) for event in due] == ["Due: Interview Ann"]
    assert due[0].decoded("dtstart") == made.actions[0].due_date
    assert get(client, "/plan/plan.ics", course.mentor_token).status_code == 403


def test_a_document_never_makes_the_server_fetch_a_url(app):
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        body = documents.render_html(f'<html lang="en"><title>t</title><img src="{url}img">'
                                     f'<link rel="stylesheet" href="{url}css"></html>')
    finally:
        server.shutdown()
    assert body.startswith(b"%PDF") and hits == []
