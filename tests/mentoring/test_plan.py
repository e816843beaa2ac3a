"""The learner's "My development plan", the cohort's plan summaries (constant number of
queries), and isolation between learners, courses and platforms."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import event, select

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, Platform, utcnow
from lti_tool.mentoring import booking, goals
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.goals import ActionDraft, CheckInDraft, GoalDraft
from lti_tool.mentoring.models import ActionOwner, GoalStatus, MeetingMode
from lti_tool.mentoring.plan import PlanSummary, plan_summaries
from tests.conftest import register, start_platform
from tests.launch_driver import LaunchDriver
from tests.mentoring.sessions_kit import (
    at,
    booking_form,
    get,
    in_days,
    mentored_course,
    text_of,
)
from tests.mentoring.sessions_kit import winter_day as next_winter_day


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def draft(start):
    return SessionDraft(start, 90, MeetingMode.IN_PERSON, "Room 2.14", "", "- Empathy")


def goal(course, learner=0, title="Interview three users", status=GoalStatus.ACTIVE,
         progress=None):
    made = goals.create_goal(course.mentor_launch, course.learners[learner].id, GoalDraft(
        title=title, dimension_ids=("empathy",), specific="", measurable="", achievable="",
        relevant="", target_date=utcnow().date() + timedelta(weeks=6), status=status))
    if progress is not None:
        goals.add_check_in(course.mentor_launch, made.id, CheckInDraft(progress, None, ""))
    db.session.commit()
    return made


def test_the_plan_shows_results_goals_actions_and_sessions(client, course, take):
    attempt = take(course.activity, course.learner)
    made = goal(course)
    goals.add_action(course.mentor_launch, made.id, ActionDraft("Interview Ann",
                                                                ActionOwner.LEARNER, None))
    goals.add_action(course.mentor_launch, made.id, ActionDraft("Send a guide",
                                                                ActionOwner.MENTOR, None))
    upcoming = booking.book_session(course.mentor_launch, course.learner.id, draft(in_days(4)))
    db.session.commit()

    response = get(client, "/plan/", course.learner_token)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "My development plan" in page
    assert f"/questionnaire/attempts/{attempt.id}/results" in html
    assert "Areas to develop:" in page and "Strengths:" in page
    assert "Interview three users" in page and "0%" in page
    # A tick-off form for the learner's own item only.
    assert html.count('class="tick-form"') == 1 and "your mentor" in page
    assert f"/plan/sessions/{upcoming.id}/session.ics" in html
    assert "Questions for your mentor" in page
    assert 'data-timezone="' in html and "timezone.js" in html


def test_the_start_and_results_pages_link_to_the_plan(client, course, take):
    attempt = take(course.activity, course.learner)
    for path in ("/questionnaire/", f"/questionnaire/attempts/{attempt.id}/results"):
        html = get(client, path, course.learner_token).get_data(as_text=True)
        assert re.search(r'href="/plan/\?lt=[^"]+">My development plan</a>', html), path


def test_the_json_export_is_the_learners_own_plan(client, course):
    goal(course)
    goal(course, learner=1, title="Someone else's goal")
    booking.book_session(course.mentor_launch, course.learner.id, draft(in_days(4)))
    db.session.commit()
    response = get(client, "/plan/export.json", course.learner_token)
    data = json.loads(response.get_data())
    assert data["learner"] == "LearnerA0 Kowalska"
    assert [g["title"] for g in data["goals"]] == ["Interview three users"]
    assert data["sessions"][0]["start_utc"].endswith("Z")
    assert "Someone else" not in response.get_data(as_text=True)


def test_plan_summaries_count_sessions_goals_and_overdue_actions(course):
    now = utcnow()
    launch = course.mentor_launch
    first, second = course.learners
    booking.book_session(launch, first.id, draft(in_days(9)))
    soonest = booking.book_session(launch, first.id, draft(in_days(3)))
    cancelled = booking.book_session(launch, first.id, draft(in_days(2)))
    booking.cancel_session(launch, cancelled.id, "Clash")
    active = goal(course, progress=30)
    goal(course, progress=70, title="Second")
    goal(course, status=GoalStatus.ACHIEVED, title="Done")
    goals.add_action(launch, active.id, ActionDraft("Late", ActionOwner.LEARNER,
                                                    now.date() - timedelta(days=1)))
    goals.add_action(launch, active.id, ActionDraft("Soon", ActionOwner.LEARNER,
                                                    now.date() + timedelta(days=1)))
    db.session.commit()

    summaries = plan_summaries(course.activity.course.id, now=now)
    assert summaries[first.id] == PlanSummary(
        next_session_dt=soonest.start_dt, active_goals=2, achieved_goals=1, progress=50,
        overdue_actions=1)
    assert second.id not in summaries


def test_plan_summaries_of_some_learners_are_theirs_only(course):
    """A cohort page asks about its own rows: the learners' ids are one bound list (an array
    on PostgreSQL), whatever their number, and no one else's plan comes back."""
    now = utcnow()
    first, second = course.learners
    booking.book_session(course.mentor_launch, first.id, draft(in_days(3)))
    booking.book_session(course.mentor_launch, second.id, draft(in_days(4)))
    goal(course, learner=0, progress=40)
    goal(course, learner=1, progress=60)
    db.session.commit()
    course_id = course.activity.course.id

    assert set(plan_summaries(course_id, now=now, learner_ids=[first.id])) == {first.id}
    assert set(plan_summaries(course_id, now=now, learner_ids=[second.id, 10**6])) == {
        second.id}
    assert plan_summaries(course_id, now=now, learner_ids=[]) == {}
    both = plan_summaries(course_id, now=now, learner_ids=[first.id, second.id])
    assert (both[first.id].progress, both[second.id].progress) == (40, 60)


def count_queries(work) -> int:
    seen = []

    def listener(*args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_plan_summaries_take_the_same_queries_for_3_and_30_learners(course, make_person):
    def grow(total):
        while len(course.learners) < total:
            course.learners.append(make_person(course.activity))
        for index, _ in enumerate(course.learners):
            goal(course, learner=index, title=f"Goal {index}")
        db.session.commit()

    course_id = course.activity.course.id
    counts = {}
    for size in (3, 30):
        grow(size)
        counts[size] = count_queries(lambda: plan_summaries(course_id))
    assert counts[3] == counts[30] == 1, counts


def test_each_learner_sees_only_their_own_plan(client, course, make_activity, make_person,
                                               token_for):
    goal(course, learner=1, title="Not yours")
    theirs = booking.book_session(course.mentor_launch, course.learners[1].id, draft(in_days(4)))
    other = mentored_course(make_activity, make_person, token_for,
                            platform=course.activity.platform, label="B")
    goal(other, title="Other course")
    db.session.commit()
    page = text_of(get(client, "/plan/", course.learner_token))
    assert "Not yours" not in page and "Other course" not in page and "No goals yet" in page
    assert get(client, f"/plan/sessions/{theirs.id}/session.ics",
               course.learner_token).status_code == 404
    assert client.post(f"/plan/sessions/{theirs.id}/questions", data={
        "lt": course.learner_token, "questions": "Hi"}).status_code == 404
    # Mentors get 403 on the learner's pages: a plan is a learner's own.
    assert get(client, "/plan/", course.mentor_token).status_code == 403


@pytest.fixture(scope="module")
def second_platform(app, tool_server, tmp_root):
    """Another development platform with the same course and user ids as the first."""
    server, platform = start_platform(tmp_root, tool_server.url, "plan-second", LEARNERS=5)
    yield platform
    server.stop()


def test_nothing_crosses_platforms_with_the_same_user_and_course_ids(app, tool_server, driver,
                                                                     platform, second_platform):
    register(app, second_platform)
    learner_sub = driver.user("Learner", 0)["id"]
    mentor_sub = driver.user("Instructor")["id"]
    driver.launch(learner_sub)
    mentor = driver.launch(mentor_sub)
    db.session.expire_all()
    first = db.session.scalar(select(Platform).where(Platform.issuer == platform.issuer))
    learner = db.session.scalar(select(Person).where(Person.platform_id == first.id,
                                                     Person.sub == learner_sub))
    base = tool_server.url
    booked = requests.post(urljoin(base, "/mentor/sessions/"), data=booking_form(
        mentor.token, learner.id, next_winter_day(), "10:00"), allow_redirects=False)
    assert booked.status_code == 303, booked.text[:1000]
    session_id = int(re.search(r"/mentor/sessions/(\d+)", booked.headers["Location"]).group(1))

    other = LaunchDriver(tool_server.url, second_platform)
    twin_mentor = other.launch(mentor_sub)
    twin_learner = other.launch(learner_sub)
    db.session.expire_all()
    courses = db.session.scalars(select(Course)).all()
    # Two platforms, one context id: two courses, as on two Moodle sites.
    assert len(courses) == 2 and len({c.context_id for c in courses}) == 1

    def status(method, path, token, **data):
        return requests.request(method, urljoin(base, path), params={"lt": token}
                                if method == "GET" else None,
                                data={"lt": token, **data} if method == "POST" else None,
                                allow_redirects=False).status_code

    token = twin_mentor.token
    assert status("GET", f"/mentor/sessions/{session_id}", token) == 404
    assert status("GET", f"/mentor/sessions/{session_id}/session.ics", token) == 404
    assert status("GET", f"/mentor/learners/{learner.id}/plan", token) == 404
    assert status("POST", f"/mentor/sessions/{session_id}/notes", token, visibility="shared",
                  body="x") == 404
    assert status("POST", "/mentor/sessions/", token,
                  **booking_form(token, learner.id, next_winter_day(), "12:00")) == 404
    learner_token = twin_learner.token
    assert status("GET", f"/plan/sessions/{session_id}/session.ics", learner_token) == 404
    plan = requests.get(urljoin(base, "/plan/"), params={"lt": learner_token})
    assert plan.status_code == 200 and "No sessions to come" in plan.text
    assert status("GET", "/mentor/sessions/", learner_token) == 403
    twin = db.session.scalar(select(Person).where(Person.platform_id != first.id,
                                                  Person.sub == learner_sub))
    assert twin is not None and twin.id != learner.id


def row_of(html: str, name: str) -> str:
    """The cohort table's row of one learner."""
    pattern = rf'<tr class="[^"]*">\s*<th scope="row"><a[^>]*>{name}</a>.*?</tr>'
    return re.search(pattern, html, re.S).group(0)


def test_the_cohort_page_shows_next_session_goals_and_overdue_actions(client, course):
    launch = course.mentor_launch
    first, second = course.learners
    booking.book_session(launch, first.id, draft(at(next_winter_day(), 9)))
    made = goal(course)
    goals.add_action(launch, made.id, ActionDraft("Late", ActionOwner.LEARNER,
                                                  utcnow().date() - timedelta(days=3)))
    done = goals.add_action(launch, made.id, ActionDraft("Done", ActionOwner.LEARNER, None))
    goals.tick_action(course.learner_launch(), done.id, True, "")
    db.session.commit()

    html = get(client, "/mentor/", course.mentor_token, tz="Europe/Warsaw").get_data(as_text=True)
    row = row_of(html, "LearnerA0 Kowalska")
    assert "10:00 CET" in row and str(next_winter_day().year) in row
    assert re.search(r'class="number goals"><a [^>]*>1</a> <span class="muted small">\(50%\)', row)
    assert '<td class="number overdue-actions"><strong>1</strong></td>' in row
    assert '<td class="number overdue-actions">—</td>' in row_of(html, "LearnerA1 Kowalska")
