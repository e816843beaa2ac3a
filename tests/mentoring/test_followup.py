"""The learner's side of a session: preparation with self-ratings before it, the summary the
mentor publishes and the learner acknowledges, a reflection after it, and proposals of goals
and actions a mentor accepts or declines."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.mentoring import booking, goals
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.goals import ActionDraft
from lti_tool.mentoring.models import (
    ActionItem,
    ActionOwner,
    Goal,
    GoalStatus,
    MeetingMode,
    Proposal,
    SessionReflection,
)
from lti_tool.mentoring.plan import plan_summaries
from tests.mentoring.conftest import leaning_answers
from tests.mentoring.sessions_kit import get, in_days, mentored_course, text_of


@pytest.fixture
def course(make_activity, make_person, token_for, take):
    course = mentored_course(make_activity, make_person, token_for)
    take(course.activity, course.learner, answers=leaning_answers(high="empathy",
                                                                  low="questioning"))
    return course


def book(course, days=5, learner=0):
    session = booking.book_session(course.mentor_launch, course.learners[learner].id,
                                   SessionDraft(in_days(days), 90, MeetingMode.IN_PERSON,
                                                "Room 2.14", "", ""))
    db.session.commit()
    return session


def move_to_past(session, days=2):
    session.start_dt, session.end_dt = in_days(-days), in_days(-days, 11)
    db.session.commit()


def test_the_learner_prepares_and_the_mentor_sees_self_ratings_beside_test_scores(client,
                                                                                 course):
    session = book(course)
    plan = get(client, "/plan/", course.learner_token)
    html = plan.get_data(as_text=True)
    assert "Strength: Empathy" in html and "Area to develop: Critical questioning" in html
    saved = client.post(f"/plan/sessions/{session.id}/preparation", data={
        "lt": course.learner_token, "rating_empathy": "6", "text_empathy": "I listen, mostly.",
        "rating_questioning": "7", "text_questioning": "I ask a lot, I think.",
        "text": "How to ask better questions in my team."})
    assert saved.status_code == 303
    row = db.session.scalar(select(SessionReflection))
    assert row.ratings == {"empathy": {"rating": 6, "text": "I listen, mostly."},
                           "questioning": {"rating": 7, "text": "I ask a lot, I think."}}

    for path in (f"/mentor/sessions/{session.id}/prepare", f"/mentor/sessions/{session.id}"):
        text = text_of(get(client, path, course.mentor_token))
        assert re.search(r"Empathy 10\.0 \(±\d\.\d\) high · strength 6 ", text), path
        assert re.search(r"Critical questioning 1\.0 \(±\d\.\d\) low · area to develop 7 ",
                         text), path
        assert "“I ask a lot, I think.”" in text
        assert "How to ask better questions in my team." in text
    # The form shows what was saved.
    html = get(client, "/plan/", course.learner_token).get_data(as_text=True)
    assert 'value="7" selected' in html and 'value="I listen, mostly."' in html


@pytest.mark.parametrize(("form", "words"), [
    ({"rating_empathy": "11"}, "Rate Empathy from 1 to 10"),
    ({"rating_empathy": "x"}, "Rate Empathy from 1 to 10"),
    ({"text_empathy": "x" * 501}, "too long"),
])
def test_an_unusable_preparation_is_refused(client, course, form, words):
    session = book(course)
    response = client.post(f"/plan/sessions/{session.id}/preparation",
                           data={"lt": course.learner_token, **form})
    assert response.status_code == 400 and words in text_of(response)
    assert db.session.scalar(select(SessionReflection)) is None


def test_preparation_and_reflection_stay_with_their_learner_and_time(client, course):
    session = book(course)
    other = course.learner_tokens[1]
    assert client.post(f"/plan/sessions/{session.id}/preparation",
                       data={"lt": other, "text": "mine"}).status_code == 404
    assert client.post(f"/plan/sessions/{session.id}/reflection",
                       data={"lt": other, "text": "mine"}).status_code == 404
    # Not before the session has taken place; not preparation afterwards.
    early = client.post(f"/plan/sessions/{session.id}/reflection",
                        data={"lt": course.learner_token, "text": "Too early"})
    assert early.status_code == 400 and "once it has taken place" in text_of(early)
    move_to_past(session)
    late = client.post(f"/plan/sessions/{session.id}/preparation",
                       data={"lt": course.learner_token, "text": "Too late"})
    assert late.status_code == 400
    assert client.post(f"/plan/sessions/{session.id}/reflection", data={
        "lt": course.learner_token, "text": "I will ask why twice."}).status_code == 303
    page = text_of(get(client, f"/mentor/sessions/{session.id}", course.mentor_token))
    assert "The learner's reflection after the session I will ask why twice." in page


def test_a_published_summary_reaches_the_learner_who_acknowledges_it(client, course):
    session = book(course)
    nxt = book(course, 20)
    goal = goals.create_goal(course.mentor_launch, course.learner.id, goals.GoalDraft(
        title="Ask why in meetings", dimension_ids=("questioning",), specific="",
        measurable="", achievable="", relevant="",
        target_date=utcnow().date() + timedelta(weeks=6), status=GoalStatus.ACTIVE),
        session_id=session.id)
    goals.add_action(course.mentor_launch, goal.id, ActionDraft(
        "Write three questions", ActionOwner.LEARNER, utcnow().date() + timedelta(days=7)))
    goals.add_action(course.mentor_launch, goal.id, ActionDraft(
        "Send the question cards", ActionOwner.MENTOR, None))
    db.session.commit()
    move_to_past(session)

    draft = client.post(f"/mentor/sessions/{session.id}/summary", data={
        "lt": course.mentor_token, "discussed": "DRAFT-CANARY questioning", "next": "",
        "publish": "0"})
    assert draft.status_code == 303
    # A draft is the mentor's alone.
    assert "DRAFT-CANARY" not in get(client, "/plan/", course.learner_token).get_data(
        as_text=True)
    assert get(client, f"/plan/sessions/{session.id}/summary",
               course.learner_token).status_code == 404
    for export in ("/plan/export.json", "/my-data.json"):
        assert "DRAFT-CANARY" not in get(client, export, course.learner_token).get_data(
            as_text=True), export
    refused = client.post(f"/mentor/sessions/{session.id}/summary", data={
        "lt": course.mentor_token, "discussed": " ", "publish": "1"})
    assert refused.status_code == 400 and "Say what was discussed" in text_of(refused)

    client.post(f"/mentor/sessions/{session.id}/summary", data={
        "lt": course.mentor_token, "discussed": "Your questioning profile.",
        "next": "Bring your three questions.", "publish": "1"})
    plan = get(client, "/plan/", course.learner_token).get_data(as_text=True)
    assert "Read the summary" in plan and "summary-new" in plan
    page = get(client, f"/plan/sessions/{session.id}/summary", course.learner_token)
    text = text_of(page)
    assert "What we discussed Your questioning profile." in text
    assert "Ask why in meetings" in text
    assert re.search(r"Write three questions you \d+ \w+ \d{4}", text)
    assert "Send the question cards your mentor —" in text
    assert "Bring your three questions." in text and "Next session:" in text

    exported = get(client, "/plan/export.json", course.learner_token).get_json()
    assert [s["summary"]["discussed"] for s in exported["sessions"] if s["summary"]] == [
        "Your questioning profile."]
    ack = client.post(f"/plan/sessions/{session.id}/summary/acknowledge",
                      data={"lt": course.learner_token})
    assert ack.status_code == 303
    db.session.refresh(session)
    assert session.summary_acknowledged_dt is not None
    mentor = text_of(get(client, f"/mentor/sessions/{session.id}", course.mentor_token))
    assert "Acknowledged by the learner" in mentor
    # A changed summary is published anew and asks for a new acknowledgement.
    client.post(f"/mentor/sessions/{session.id}/summary", data={
        "lt": course.mentor_token, "discussed": "Your questioning profile, and teams.",
        "next": "", "publish": "1"})
    db.session.refresh(session)
    assert session.summary_acknowledged_dt is None
    # Another learner, and a mentor of another course, reach nothing.
    assert get(client, f"/plan/sessions/{session.id}/summary",
               course.learner_tokens[1]).status_code == 404
    assert nxt.id != session.id


def test_learners_propose_goals_and_actions_mentors_accept_or_decline(client, course):
    today = utcnow().date()
    proposed = client.post("/plan/goals", data={
        "lt": course.learner_token, "title": "Run a design sprint", "dimension_id": "empathy",
        "description": "With my team", "target_date": (today + timedelta(weeks=4)).isoformat()})
    assert proposed.status_code == 303
    goal = db.session.scalar(select(Goal))
    assert (goal.proposal, goal.created_by_id) == (Proposal.PROPOSED, course.learner.id)
    # A proposal counts in no cohort figure and gets no check-in yet.
    assert course.learner.id not in plan_summaries(course.activity.course.id)
    assert client.post(f"/plan/goals/{goal.id}/check-ins", data={
        "lt": course.learner_token, "progress": "10"}).status_code == 400
    mentor_page = text_of(get(client, f"/mentor/learners/{course.learner.id}/plan",
                              course.mentor_token))
    assert "Run a design sprint" in mentor_page and "Proposed by the learner" in mentor_page

    declined = client.post(f"/mentor/goals/{goal.id}/decision", data={
        "lt": course.mentor_token, "accept": "0", "reply": ""})
    assert declined.status_code == 400 and "why you decline" in text_of(declined)
    accepted = client.post(f"/mentor/goals/{goal.id}/decision", data={
        "lt": course.mentor_token, "accept": "1", "reply": "Good idea"})
    assert accepted.status_code == 303
    db.session.refresh(goal)
    assert goal.proposal is Proposal.AGREED
    assert plan_summaries(course.activity.course.id)[course.learner.id].active_goals == 1

    # An action the learner proposes waits for the mentor before it can be ticked.
    client.post(f"/plan/goals/{goal.id}/actions", data={
        "lt": course.learner_token, "title": "Book a room"})
    action = db.session.scalar(select(ActionItem))
    assert action.proposal is Proposal.PROPOSED
    assert client.post(f"/plan/actions/{action.id}", data={
        "lt": course.learner_token, "done": "1"}).status_code == 403
    client.post(f"/mentor/actions/{action.id}/decision",
                data={"lt": course.mentor_token, "accept": "1"})
    assert client.post(f"/plan/actions/{action.id}", data={
        "lt": course.learner_token, "done": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).progress == 100

    # A second proposal declined with a reply: dropped, and the learner reads why.
    client.post("/plan/goals", data={
        "lt": course.learner_token, "title": "Learn Figma", "dimension_id": "experimentation",
        "target_date": (today + timedelta(weeks=4)).isoformat()})
    second = db.session.scalar(select(Goal).where(Goal.title == "Learn Figma"))
    client.post(f"/mentor/goals/{second.id}/decision", data={
        "lt": course.mentor_token, "accept": "0", "reply": "Tools come later."})
    db.session.refresh(second)
    assert (second.proposal, second.status) == (Proposal.DECLINED, GoalStatus.DROPPED)
    assert "Your mentor: Tools come later." in text_of(get(client, "/plan/",
                                                           course.learner_token))


@pytest.mark.parametrize(("form", "words"), [
    ({"title": ""}, "title"), ({"dimension_id": "telepathy"}, "dimension"),
    ({"target_date": "2001-01-01"}, "still to come"), ({"target_date": ""}, "target date"),
])
def test_an_unusable_proposal_is_refused(client, course, form, words):
    data = {"lt": course.learner_token, "title": "Sketch daily", "dimension_id": "empathy",
            "target_date": (utcnow().date() + timedelta(days=9)).isoformat(), **form}
    response = client.post("/plan/goals", data=data)
    assert response.status_code == 400 and words in text_of(response)
    assert db.session.scalar(select(Goal)) is None


#: Every route of the session workflow that names a learner's record, as (method, path).
MENTOR_ROUTES = [
    ("GET", "/mentor/sessions/{session}"), ("GET", "/mentor/sessions/{session}/prepare"),
    ("POST", "/mentor/sessions/{session}/agenda"), ("POST", "/mentor/sessions/{session}/goals"),
    ("POST", "/mentor/sessions/{session}/summary"), ("POST", "/mentor/sessions/{session}/notes"),
    ("POST", "/mentor/goals/{goal}/check-ins"), ("POST", "/mentor/goals/{goal}/review"),
    ("POST", "/mentor/goals/{goal}/decision"), ("POST", "/mentor/actions/{action}/decision"),
]
LEARNER_ROUTES = [
    ("POST", "/plan/sessions/{session}/preparation"),
    ("POST", "/plan/sessions/{session}/reflection"),
    ("GET", "/plan/sessions/{session}/summary"),
    ("POST", "/plan/sessions/{session}/summary/acknowledge"),
    ("POST", "/plan/goals/{goal}/check-ins"), ("POST", "/plan/goals/{goal}/actions"),
]


@pytest.fixture
def records(client, course):
    """A session with a published summary, a goal and a proposed action of the learner."""
    session = book(course)
    goal = goals.create_goal(course.mentor_launch, course.learner.id, goals.GoalDraft(
        title="Ask why", dimension_ids=("questioning",), specific="", measurable="",
        achievable="", relevant="", target_date=utcnow().date() + timedelta(weeks=6),
        status=GoalStatus.ACTIVE), session_id=session.id)
    action = ActionItem(title="Mine", owner=ActionOwner.LEARNER, proposal=Proposal.PROPOSED)
    goal.actions.append(action)
    session.summary_discussed = "SUMMARY-CANARY"
    session.summary_published_dt = utcnow()
    db.session.commit()
    return {"session": session.id, "goal": goal.id, "action": action.id}


def _call(client, method, path, token):
    if method == "GET":
        return client.get(path, query_string={"lt": token})
    return client.post(path, data={"lt": token, "progress": "10", "text": "x", "title": "x",
                                   "accept": "1", "reply": "x", "attainment": "1",
                                   "status": "active", "discussed": "x", "body": "x",
                                   "visibility": "author", "publish": "1",
                                   "dimension_ids": "empathy", "owner": "learner"})


@pytest.mark.parametrize(("method", "path"), MENTOR_ROUTES)
def test_another_courses_mentor_gets_404_and_a_learner_403_on_mentor_routes(
        client, course, records, make_activity, make_person, token_for, method, path):
    url = path.format(**records)
    other = mentored_course(make_activity, make_person, token_for,
                            platform=course.activity.platform, label="B")
    foreign = mentored_course(make_activity, make_person, token_for, label="C")
    for intruder in (other, foreign):
        assert _call(client, method, url, intruder.mentor_token).status_code == 404, url
    assert _call(client, method, url, course.learner_token).status_code == 403, url
    assert "SUMMARY-CANARY" not in _call(client, method, url,
                                         other.mentor_token).get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), LEARNER_ROUTES)
def test_another_learner_gets_404_and_a_mentor_403_on_learner_routes(
        client, course, records, make_activity, make_person, token_for, method, path):
    url = path.format(**records)
    other = mentored_course(make_activity, make_person, token_for,
                            platform=course.activity.platform, label="B")
    for token in (course.learner_tokens[1], other.learner_token):
        response = _call(client, method, url, token)
        assert response.status_code == 404, (url, response.status_code)
        assert "SUMMARY-CANARY" not in response.get_data(as_text=True)
    assert _call(client, method, url, course.mentor_token).status_code == 403, url
