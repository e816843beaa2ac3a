"""Session notes at three levels: for their author alone, for the course's mentors, for the
learner too. A note reaches exactly its level's readers: never another mentor (author level),
never the learner, an observer, an export or a calendar (both levels below the learner's)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import MentorKind, Role
from lti_tool.mentoring import booking, notes
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import AgendaPart, MeetingMode, Note, NoteVisibility
from lti_tool.mentoring.scope import BadInput, NotAllowed, NotFound
from tests.mentoring.sessions_kit import get, in_days, mentored_course, text_of

SHARED = "Shared: try the five whys before next week"
MENTORS = "MENTORS-CANARY seems anxious about the group project"
AUTHOR = "AUTHOR-CANARY ask about the internship next time"


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


@pytest.fixture
def session(course):
    session = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        in_days(5), 90, MeetingMode.IN_PERSON, "Room 2.14", "", "- Empathy"))
    db.session.commit()
    return session


@pytest.fixture
def colleague(course, make_person, token_for):
    """Another mentor of the course (a teaching assistant) and their launch token."""
    person = make_person(course.activity, Role.MENTOR, given_name="Cole", family_name="League")
    return token_for(course.activity, person, Role.MENTOR, MentorKind.ASSISTANT)


def add(client, course, session, visibility, body, token=None):
    return client.post(f"/mentor/sessions/{session.id}/notes", data={
        "lt": token or course.mentor_token, "visibility": visibility, "body": body})


def write_all_three(client, course, session):
    for level, body in (("learner", SHARED), ("mentors", MENTORS), ("author", AUTHOR)):
        assert add(client, course, session, level, body).status_code == 303


def test_the_author_reads_all_three_and_each_level_is_labelled(client, course, session):
    write_all_three(client, course, session)
    page = text_of(get(client, f"/mentor/sessions/{session.id}", course.mentor_token))
    assert SHARED in page and MENTORS in page and AUTHOR in page
    for badge in ("Shared with the learner", "Shared with the mentors", "Private: only you"):
        assert badge in page
    plan = text_of(get(client, f"/mentor/learners/{course.learner.id}/plan", course.mentor_token))
    assert "1 notes shared with the learner, 2 for mentors or you alone" in plan


def test_another_mentor_reads_the_mentors_notes_never_the_authors_own(client, course, session,
                                                                      colleague):
    write_all_three(client, course, session)
    page = get(client, f"/mentor/sessions/{session.id}", colleague)
    assert page.status_code == 200
    assert SHARED in text_of(page) and MENTORS in text_of(page)
    assert "AUTHOR-CANARY" not in page.get_data(as_text=True)
    plan = text_of(get(client, f"/mentor/learners/{course.learner.id}/plan", colleague))
    assert "1 notes shared with the learner, 1 for mentors or you alone" in plan
    # Nor can they delete it: it looks like no note at all.
    note = db.session.scalar(select(Note).where(Note.visibility == NoteVisibility.AUTHOR))
    assert client.post(f"/mentor/notes/{note.id}/delete",
                       data={"lt": colleague}).status_code == 404


def test_a_site_administrator_reads_only_what_the_learner_reads(client, course, session,
                                                               make_person, token_for):
    write_all_three(client, course, session)
    admin = make_person(course.activity, Role.MENTOR, given_name="Ada", family_name="Admin")
    token = token_for(course.activity, admin, Role.MENTOR, MentorKind.SITE_ADMIN)
    body = get(client, f"/mentor/sessions/{session.id}", token).get_data(as_text=True)
    assert "five whys" in body
    assert "MENTORS-CANARY" not in body and "AUTHOR-CANARY" not in body


def write_in_a_part(client, course, session):
    """Notes at the two levels below the learner's, written in an agenda part of the guide,
    and the session's summary published."""
    get(client, f"/mentor/sessions/{session.id}", course.mentor_token)  # lays out the agenda
    part = db.session.scalar(select(AgendaPart).where(AgendaPart.session_id == session.id))
    for level, body in (("mentors", "PART-MENTORS-CANARY"), ("author", "PART-AUTHOR-CANARY")):
        assert client.post(f"/mentor/sessions/{session.id}/notes", data={
            "lt": course.mentor_token, "visibility": level, "body": body,
            "agenda_part_id": str(part.id)}).status_code == 303
    session.start_dt, session.end_dt = in_days(-3), in_days(-3, 11)
    db.session.commit()
    assert client.post(f"/mentor/sessions/{session.id}/summary", data={
        "lt": course.mentor_token, "discussed": "Empathy", "publish": "1"}).status_code == 303


def test_the_learner_gets_only_learner_level_notes_anywhere(client, course, session):
    write_all_three(client, course, session)
    write_in_a_part(client, course, session)
    learner = course.learner_token
    seen = {
        "plan page": get(client, "/plan/", learner),
        "slots page": get(client, "/plan/slots", learner),
        "calendar file": get(client, f"/plan/sessions/{session.id}/session.ics", learner),
        "JSON export": get(client, "/plan/export.json", learner),
        "all my data": get(client, "/my-data.json", learner),
        "summary page": get(client, f"/plan/sessions/{session.id}/summary", learner),
    }
    for where, response in seen.items():
        assert response.status_code == 200, where
        body = response.get_data(as_text=True)
        assert "MENTORS-CANARY" not in body and "AUTHOR-CANARY" not in body, where
    assert SHARED in text_of(seen["plan page"]) and SHARED in text_of(seen["summary page"])
    exported = json.loads(seen["JSON export"].get_data())
    assert [n["text"] for n in exported["sessions"][0]["notes"]] == [SHARED]
    # Mentor-only URLs are closed to the learner altogether.
    assert get(client, f"/mentor/sessions/{session.id}", learner).status_code == 403
    assert get(client, f"/mentor/learners/{course.learner.id}/plan", learner).status_code == 403


def test_notes_never_go_into_calendar_files_or_feeds(client, course, session):
    write_all_three(client, course, session)
    write_in_a_part(client, course, session)
    mentor_ics = get(client, f"/mentor/sessions/{session.id}/session.ics", course.mentor_token)
    made = client.post("/mentor/calendar-feed", data={"lt": course.mentor_token})
    html = made.get_data(as_text=True)
    start = html.index('<code class="feed-url">') + len('<code class="feed-url">')
    url = html[start:html.index("</code>", start)]
    feed = client.get(url.removeprefix(client.application.config["TOOL_URL"]))
    for response in (mentor_ics, feed):
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "CANARY" not in body and "five whys" not in body


def test_the_services_refuse_levels_to_the_wrong_readers(course, session, make_activity,
                                                         make_person, token_for):
    notes.add_note(course.mentor_launch, session.id, "mentors", MENTORS)
    notes.add_note(course.mentor_launch, session.id, "author", AUTHOR)
    notes.add_note(course.mentor_launch, session.id, "learner", SHARED)
    assert [n.body for n in notes.learner_notes([session.id])[session.id]] == [SHARED]
    with pytest.raises(NotAllowed):
        notes.mentor_only_notes(course.learner_launch(), [session.id])
    with pytest.raises(NotAllowed):
        notes.mentor_notes(course.learner_launch(), session)
    other = mentored_course(make_activity, make_person, token_for,
                            platform=course.activity.platform, label="B")
    with pytest.raises(NotFound):
        notes.mentor_only_notes(other.mentor_launch, [session.id])
    with pytest.raises(NotFound):
        notes.add_note(other.mentor_launch, session.id, "learner", "Hello")
    for unknown in ("public", "shared", "private", ""):
        with pytest.raises(BadInput):
            notes.add_note(course.mentor_launch, session.id, unknown, "Hello")


def test_only_the_author_deletes_a_note(client, course, session, colleague):
    add(client, course, session, "mentors", MENTORS)
    note = db.session.scalar(select(Note))
    assert note.visibility is NoteVisibility.MENTORS
    refused = client.post(f"/mentor/notes/{note.id}/delete", data={"lt": colleague})
    assert refused.status_code == 403
    assert client.post(f"/mentor/notes/{note.id}/delete",
                       data={"lt": course.learner_token}).status_code == 403
    deleted = client.post(f"/mentor/notes/{note.id}/delete", data={"lt": course.mentor_token})
    assert deleted.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Note)) is None


def test_a_notes_level_holds_in_the_guides_parts_and_the_preparation_view(client, course,
                                                                          session, colleague):
    write_all_three(client, course, session)
    write_in_a_part(client, course, session)
    later = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        in_days(8), 90, MeetingMode.IN_PERSON, "Room 2.14", "", ""))
    db.session.commit()
    author = get(client, f"/mentor/sessions/{later.id}/prepare", course.mentor_token)
    assert "PART-AUTHOR-CANARY" in author.get_data(as_text=True)
    for path in (f"/mentor/sessions/{session.id}", f"/mentor/sessions/{later.id}/prepare"):
        body = get(client, path, colleague).get_data(as_text=True)
        assert "PART-MENTORS-CANARY" in body, path
        assert "AUTHOR-CANARY" not in body, path
