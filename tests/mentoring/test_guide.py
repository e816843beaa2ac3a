"""The session guide: a time-boxed agenda (default, edited, the mentor's own template), the
material of each part, notes per part, goals set in the session, and the preparation view."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.mentoring import booking
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import AgendaPart, Goal, MeetingMode, Note
from tests.mentoring.conftest import leaning_answers
from tests.mentoring.sessions_kit import get, in_days, mentored_course, text_of


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def book(course, days=5, learner=0):
    session = booking.book_session(course.mentor_launch, course.learners[learner].id,
                                   SessionDraft(in_days(days), 90, MeetingMode.IN_PERSON,
                                                "Room 2.14", "", ""))
    db.session.commit()
    return session


def parts_of(session_id):
    return [(p.kind.value, p.title, p.minutes) for p in db.session.scalars(
        select(AgendaPart).where(AgendaPart.session_id == session_id)
        .order_by(AgendaPart.position))]


DEFAULT = [("opening", "Opening", 10), ("results", "Review of the results", 20),
           ("strengths", "Strengths", 15), ("areas", "Areas for development", 20),
           ("goals", "Goals and action plan", 20), ("close", "Close", 5)]


def test_the_session_page_is_a_90_minute_guide_with_each_parts_material(client, course, take):
    take(course.activity, course.learner, answers=leaning_answers(high="empathy",
                                                                  low="questioning"))
    session = book(course)
    page = get(client, f"/mentor/sessions/{session.id}", course.mentor_token)
    assert page.status_code == 200
    assert parts_of(session.id) == DEFAULT
    html = page.get_data(as_text=True)
    text = text_of(page)
    assert "The agenda plans 90 minutes." in text
    assert html.count("data-agenda-part ") == 6
    # The strength and the area with their debrief questions from the instrument file.
    strengths = html.split('class="agenda-part part-strengths"', 1)[1]
    strengths = strengths.split('class="part-notes"')[0]
    assert "Empathy" in strengths and "Whose point of view is easiest for you" in strengths
    areas = html.split('class="agenda-part part-areas"', 1)[1].split('class="part-notes"')[0]
    assert "Critical questioning" in areas and "What stops you from asking" in areas
    assert "Set a goal for Critical questioning" in areas
    # The clock is a script of its own (CSP allows no inline script), hidden without it.
    assert "js/agenda_clock.js" in html and "data-agenda-clock hidden" in html
    assert "<script>" not in html


def test_without_a_result_the_agenda_starts_from_the_questionnaire(client, course):
    session = book(course)
    text = text_of(get(client, f"/mentor/sessions/{session.id}", course.mentor_token))
    assert parts_of(session.id)[1] == ("questionnaire", "Complete the questionnaire", 20)
    assert "results" not in [kind for kind, _, _ in parts_of(session.id)]
    assert "has not submitted the questionnaire yet" in text


def test_the_agenda_is_edited_per_session_and_kept_as_the_mentors_template(client, course):
    first = book(course, 5)
    get(client, f"/mentor/sessions/{first.id}", course.mentor_token)
    form = {"lt": course.mentor_token, "tz": "UTC"}
    for index, (kind, title, minutes) in enumerate(DEFAULT):
        form.update({f"kind_{index}": kind, f"title_{index}": title,
                     f"minutes_{index}": str(minutes)})
    form.update({"minutes_0": "5", "remove_5": "1", "title_6": "Check-in on last week",
                 "minutes_6": "10", "kind_6": "other"})
    saved = client.post(f"/mentor/sessions/{first.id}/agenda", data=form)
    assert saved.status_code == 303
    db.session.expire_all()
    assert parts_of(first.id) == [("opening", "Opening", 5), *DEFAULT[1:5],
                                  ("other", "Check-in on last week", 10)]
    # Not a template yet: another session still gets the default.
    second = book(course, 7)
    get(client, f"/mentor/sessions/{second.id}", course.mentor_token)
    assert parts_of(second.id)[0] == ("opening", "Opening", 10)

    client.post(f"/mentor/sessions/{first.id}/agenda", data={**form, "as_template": "1"})
    third = book(course, 9)
    get(client, f"/mentor/sessions/{third.id}", course.mentor_token)
    db.session.expire_all()
    # The mentor's template, with the questionnaire in place of the review (no result).
    assert [kind for kind, _, _ in parts_of(third.id)] == [
        "opening", "questionnaire", "strengths", "areas", "goals", "other"]
    assert parts_of(third.id)[0] == ("opening", "Opening", 5)


@pytest.mark.parametrize(("changes", "words"), [
    ({"minutes_0": "0"}, "from 1 to 240"), ({"minutes_0": "ten"}, "from 1 to 240"),
    ({f"title_{i}": "" for i in range(6)}, "at least one part"),
])
def test_an_unusable_agenda_is_refused_with_what_is_wrong(client, course, changes, words):
    session = book(course)
    get(client, f"/mentor/sessions/{session.id}", course.mentor_token)
    form = {"lt": course.mentor_token}
    for index, (kind, title, minutes) in enumerate(DEFAULT):
        form.update({f"kind_{index}": kind, f"title_{index}": title,
                     f"minutes_{index}": str(minutes)})
    form.update(changes)
    response = client.post(f"/mentor/sessions/{session.id}/agenda", data=form)
    assert response.status_code == 400 and words in text_of(response)


def test_notes_are_written_per_agenda_part(client, course):
    session = book(course)
    get(client, f"/mentor/sessions/{session.id}", course.mentor_token)
    part = db.session.scalar(select(AgendaPart).where(AgendaPart.session_id == session.id,
                                                      AgendaPart.title == "Strengths"))
    response = client.post(f"/mentor/sessions/{session.id}/notes", data={
        "lt": course.mentor_token, "visibility": "mentors", "body": "Proud of the workshop",
        "agenda_part_id": str(part.id)})
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"#part-{part.id}")
    html = get(client, f"/mentor/sessions/{session.id}", course.mentor_token).get_data(
        as_text=True)
    strengths = html.split(f'id="part-{part.id}"', 1)[1].split("agenda-part part-", 1)[0]
    assert "Proud of the workshop" in strengths
    # A part of another session is refused.
    other = book(course, 9, learner=1)
    get(client, f"/mentor/sessions/{other.id}", course.mentor_token)
    assert client.post(f"/mentor/sessions/{other.id}/notes", data={
        "lt": course.mentor_token, "visibility": "author", "body": "x",
        "agenda_part_id": str(part.id)}).status_code == 404
    assert db.session.scalar(select(Note).where(Note.body == "x")) is None


def test_goals_and_actions_set_in_the_session_are_linked_to_it(client, course, take):
    take(course.activity, course.learner, answers=leaning_answers(low="questioning"))
    session = book(course)
    response = client.post(f"/mentor/sessions/{session.id}/goals", data={
        "lt": course.mentor_token, "title": "Ask why in meetings",
        "dimension_ids": "questioning", "measure": "Critical questioning score",
        "baseline": "3.1", "target_value": "4.5"})
    assert response.status_code == 303
    goal = db.session.scalar(select(Goal))
    assert (goal.session_id, goal.dimension_ids) == (session.id, ["questioning"])
    assert goal.source_attempt_id is not None
    # Without a date given, six weeks after the session.
    assert goal.target_date == session.start_dt.date() + timedelta(weeks=6)
    added = client.post(f"/mentor/goals/{goal.id}/actions", data={
        "lt": course.mentor_token, "title": "Write three questions", "owner": "learner",
        "session_id": str(session.id)})
    assert added.status_code == 303
    assert f"/mentor/sessions/{session.id}" in added.headers["Location"]
    page = text_of(get(client, f"/mentor/sessions/{session.id}", course.mentor_token))
    agreed = page.split("Agreed in this session", 1)[1]
    assert "Ask why in meetings" in agreed and "Write three questions" in agreed
    assert "from 3.1 to 4.5" in agreed


def test_the_preparation_view_has_everything_on_one_page(client, course, take):
    take(course.activity, course.learner, answers=leaning_answers(high="empathy",
                                                                  low="questioning"))
    earlier = book(course, 3)
    earlier.start_dt, earlier.end_dt = in_days(-10), in_days(-10, 11)
    earlier.summary_discussed = "We looked at the empathy map."
    db.session.commit()
    session = book(course, 5)
    page = get(client, f"/mentor/sessions/{session.id}/prepare", course.mentor_token)
    assert page.status_code == 200
    text = text_of(page)
    assert re.search(r"Empathy \d+\.\d \(±\d\.\d\) high · strength", text)
    assert "± is one standard error of measurement" in text
    assert "Whose point of view is easiest for you" in text
    assert "Ways to develop it:" in text and "Over-used:" in text
    assert "Discussed: We looked at the empathy map." in text
    assert "Overdue actions" in text and "Open goals" in text
    assert 'class="report prep-page"' in page.get_data(as_text=True)


def test_at_the_next_session_the_guide_reviews_the_open_goals(client, course):
    first = book(course, 3)
    client.post(f"/mentor/sessions/{first.id}/goals", data={
        "lt": course.mentor_token, "title": "Sketch daily", "dimension_ids": "empathy"})
    goal = db.session.scalar(select(Goal))
    nxt = book(course, 9)
    page = text_of(get(client, f"/mentor/sessions/{nxt.id}", course.mentor_token))
    assert "Other open goals: review them Sketch daily" in page
    reviewed = client.post(f"/mentor/goals/{goal.id}/review", data={
        "lt": course.mentor_token, "attainment": "-1", "status": "dropped",
        "session_id": str(nxt.id)})
    assert reviewed.status_code == 303
    assert f"/mentor/sessions/{nxt.id}" in reviewed.headers["Location"]
    db.session.refresh(goal)
    assert (goal.attainment, goal.status.value) == (-1, "dropped")
