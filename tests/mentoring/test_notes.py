"""Session notes: shared notes reach the learner; private notes reach mentors only, and never a
learner's page, calendar file, JSON export or any URL a learner can open."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.mentoring import booking, notes
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import MeetingMode, Note, NoteVisibility
from lti_tool.mentoring.scope import BadInput, NotAllowed, NotFound
from tests.mentoring.sessions_kit import get, in_days, mentored_course, text_of

SHARED = "Shared: try the five whys before next week"
PRIVATE = "PRIVATE-CANARY seems anxious about the group project"


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


@pytest.fixture
def session(course):
    session = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        in_days(5), 90, MeetingMode.IN_PERSON, "Room 2.14", "", "- Empathy"))
    db.session.commit()
    return session


def add(client, course, session, visibility, body):
    return client.post(f"/mentor/sessions/{session.id}/notes", data={
        "lt": course.mentor_token, "visibility": visibility, "body": body})


def test_the_mentor_sees_both_kinds_and_the_learner_only_shared_notes(client, course, session):
    assert add(client, course, session, "shared", SHARED).status_code == 303
    assert add(client, course, session, "private", PRIVATE).status_code == 303

    mentor_page = text_of(get(client, f"/mentor/sessions/{session.id}", course.mentor_token))
    assert SHARED in mentor_page and PRIVATE in mentor_page
    assert "Private: mentors only" in mentor_page
    plan_for_mentor = text_of(get(client, f"/mentor/learners/{course.learner.id}/plan",
                                  course.mentor_token))
    assert "1 shared, 1 private notes" in plan_for_mentor

    learner = course.learner_token
    seen = {
        "plan page": get(client, "/plan/", learner),
        "slots page": get(client, "/plan/slots", learner),
        "calendar file": get(client, f"/plan/sessions/{session.id}/session.ics", learner),
        "JSON export": get(client, "/plan/export.json", learner),
        "all my data": get(client, "/my-data.json", learner),
    }
    for where, response in seen.items():
        assert response.status_code == 200, where
        body = response.get_data(as_text=True)
        assert PRIVATE not in body and "PRIVATE-CANARY" not in body, where
    assert SHARED in text_of(seen["plan page"])
    exported = json.loads(seen["JSON export"].get_data())
    assert [n["text"] for n in exported["sessions"][0]["notes"]] == [SHARED]
    # Mentor-only URLs are closed to the learner altogether.
    assert get(client, f"/mentor/sessions/{session.id}", learner).status_code == 403
    assert get(client, f"/mentor/learners/{course.learner.id}/plan", learner).status_code == 403


def test_notes_never_go_into_calendar_files_or_feeds(client, course, session):
    add(client, course, session, "shared", SHARED)
    add(client, course, session, "private", PRIVATE)
    mentor_ics = get(client, f"/mentor/sessions/{session.id}/session.ics", course.mentor_token)
    made = client.post("/mentor/calendar-feed", data={"lt": course.mentor_token})
    html = made.get_data(as_text=True)
    start = html.index('<code class="feed-url">') + len('<code class="feed-url">')
    url = html[start:html.index("</code>", start)]
    feed = client.get(url.removeprefix(client.application.config["TOOL_URL"]))
    for response in (mentor_ics, feed):
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "PRIVATE-CANARY" not in body and "five whys" not in body


def test_private_notes_are_served_only_to_mentors_of_the_course(course, session,
                                                                make_activity, make_person,
                                                                token_for):
    notes.add_note(course.mentor_launch, session.id, "private", PRIVATE)
    notes.add_note(course.mentor_launch, session.id, "shared", SHARED)
    assert [n.body for n in notes.shared_notes([session.id])[session.id]] == [SHARED]
    with pytest.raises(NotAllowed):
        notes.private_notes(course.learner_launch(), [session.id])
    with pytest.raises(NotAllowed):
        notes.mentor_notes(course.learner_launch(), session)
    other = mentored_course(make_activity, make_person, token_for,
                            platform=course.activity.platform, label="B")
    with pytest.raises(NotFound):
        notes.private_notes(other.mentor_launch, [session.id])
    with pytest.raises(NotFound):
        notes.add_note(other.mentor_launch, session.id, "shared", "Hello")
    with pytest.raises(BadInput):
        notes.add_note(course.mentor_launch, session.id, "public", "Hello")


def test_only_the_author_deletes_a_note(client, course, session, make_person, token_for):
    from lti_tool.identity.models import Role

    add(client, course, session, "private", PRIVATE)
    note = db.session.scalar(select(Note))
    assert note.visibility is NoteVisibility.PRIVATE
    colleague = make_person(course.activity, Role.MENTOR)
    colleague_token = token_for(course.activity, colleague, Role.MENTOR)
    refused = client.post(f"/mentor/notes/{note.id}/delete", data={"lt": colleague_token})
    assert refused.status_code == 403
    assert client.post(f"/mentor/notes/{note.id}/delete",
                       data={"lt": course.learner_token}).status_code == 403
    deleted = client.post(f"/mentor/notes/{note.id}/delete", data={"lt": course.mentor_token})
    assert deleted.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Note)) is None
