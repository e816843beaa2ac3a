"""Assigned mentors and caseloads: in "assigned" mode an assistant reaches only the learners
assigned to them, on every learner-scoped route (taken from the app's url_map, so a new route
is covered without touching this file), in exports and in the gradebook; the lead assigns by
hand, by CSV and balanced; learners see who their mentor is."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from lti_tool import create_app
from lti_tool.extensions import db
from lti_tool.gradebook.models import GradeMode, ScoreRecord, ScoreStatus
from lti_tool.identity.models import MentorKind, Person, Role, utcnow
from lti_tool.mentoring.models import (
    ActionItem,
    ActionOwner,
    AvailabilitySlot,
    Goal,
    MeetingMode,
    MentoringSession,
    Note,
    NoteVisibility,
    SessionStatus,
)
from lti_tool.mentoring.programme.models import (
    AssignmentSource,
    CaseloadMode,
    MentorAssignment,
    ProgrammeSettings,
)
from tests.conftest import TEST_SECRET
from tests.mentoring.sessions_kit import (
    booking_form,
    get,
    in_days,
    mentored_course,
    text_of,
    winter_day,
)

#: Route arguments that name something of one learner, and which of the world's ids fills it.
LEARNER_ARGUMENTS = {"person_id": "learner", "learner_id": "learner", "attempt_id": "attempt",
                     "session_id": "session", "goal_id": "goal", "action_id": "action",
                     "note_id": "note", "record_id": "record"}
#: Integer arguments that name nothing of a learner: a mentor's own slot, a lead's assignment.
OTHER_ARGUMENTS = {"slot_id", "assignment_id", "page"}
#: Routes that take the learner in the query or form instead of the path.
LEARNER_IN_FORM = {"sessions.new": "learner_id", "sessions.create": "learner_id",
                   "questionnaire.allow_retake": "person_id"}


def _rules():
    """The app's rules, read once when the tests are collected."""
    os.environ.setdefault("LTI_TOOL_CONFIG", "/nonexistent/dmd-no-config.toml")
    app = create_app({"ENV": "test", "TESTING": True, "SECRET_KEY": TEST_SECRET,
                      "TOOL_URL": "http://127.0.0.1:9", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "KEYS_DIR": "/nonexistent", "LOG_LEVEL": "WARNING"})
    return list(app.url_map.iter_rules())


def _learner_routes():
    routes = []
    for rule in _rules():
        for method in sorted(rule.methods & {"GET", "POST"}):
            if rule.arguments & LEARNER_ARGUMENTS.keys() or rule.endpoint in LEARNER_IN_FORM:
                routes.append((rule.endpoint, rule.rule, method))
    return routes


RULES = _rules()
ROUTES = _learner_routes()


def test_every_integer_argument_of_every_route_is_known():
    """A new kind of id in a route must be classed here, or it would escape the caseload test."""
    for rule in RULES:
        for argument in rule.arguments:
            converter = rule._converters.get(argument)
            if type(converter).__name__ == "IntegerConverter":
                assert argument in LEARNER_ARGUMENTS or argument in OTHER_ARGUMENTS, (
                    rule.endpoint, argument)
    assert len(ROUTES) >= 20


@dataclass
class Learnerish:
    """One learner and something of theirs for every kind of id a route takes."""

    learner: int
    attempt: int
    session: int
    goal: int
    action: int
    note: int
    record: int


@dataclass
class Programme:
    course: object
    assistant: Person
    assistant_token: str
    inside: Learnerish
    outside: Learnerish


def _records_for(course, learner: Person, author: Person, take) -> Learnerish:
    activity = course.activity
    attempt = take(activity, learner)
    session = MentoringSession(
        uid=f"s-{learner.id}@test", course_id=activity.course.id, mentor_id=course.mentor.id,
        learner_id=learner.id, start_dt=in_days(3 + learner.id), mode=MeetingMode.ONLINE,
        end_dt=in_days(3 + learner.id) + timedelta(minutes=90), created_by_id=course.mentor.id)
    goal = Goal(course_id=activity.course.id, learner_id=learner.id,
                created_by_id=course.mentor.id, title="Ask more users", dimension_ids=["empathy"],
                target_date=utcnow().date() + timedelta(days=30))
    db.session.add_all([session, goal])
    db.session.flush()
    action = ActionItem(goal_id=goal.id, title="Interview two users", owner=ActionOwner.LEARNER,
                        due_date=utcnow().date() + timedelta(days=7))
    note = Note(session_id=session.id, author_id=author.id, visibility=NoteVisibility.MENTORS,
                body="NOTE-CANARY")
    record = ScoreRecord(resource_link_id=activity.link.id, person_id=learner.id, overall=6.0,
                         grade_mode=GradeMode.COMPLETION, score_given=1, score_maximum=1,
                         score_dt=utcnow(), status=ScoreStatus.FAILED, last_error="HTTP 500")
    db.session.add_all([action, note, record])
    db.session.commit()
    return Learnerish(learner.id, attempt.id, session.id, goal.id, action.id, note.id, record.id)


@pytest.fixture
def programme(make_activity, make_person, token_for, take):
    """An "assigned" course: an assistant whose caseload is the first learner only."""
    course = mentored_course(make_activity, make_person, token_for, learners=3)
    assistant = make_person(course.activity, Role.MENTOR, given_name="Adam",
                            family_name="Assistant")
    token = token_for(course.activity, assistant, Role.MENTOR, kind=MentorKind.ASSISTANT)
    db.session.add(ProgrammeSettings(course_id=course.activity.course.id,
                                     mode=CaseloadMode.ASSIGNED))
    db.session.add(MentorAssignment(course_id=course.activity.course.id, mentor_id=assistant.id,
                                    learner_id=course.learner.id, source=AssignmentSource.HAND))
    db.session.commit()
    inside = _records_for(course, course.learners[0], assistant, take)
    outside = _records_for(course, course.learners[1], assistant, take)
    return Programme(course, assistant, token, inside, outside)


def _url(rule: str, ids: Learnerish) -> str:
    def fill(match):
        return str(getattr(ids, LEARNER_ARGUMENTS.get(match.group(1), "learner")))
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", fill, rule)


def _ask(client, endpoint, rule, method, token, ids: Learnerish):
    url = _url(rule, ids)
    extra = {LEARNER_IN_FORM[endpoint]: str(ids.learner)} if endpoint in LEARNER_IN_FORM else {}
    if endpoint == "sessions.create":
        # A booking that would be accepted, but for whom it is for.
        extra = booking_form(token, ids.learner, winter_day(), "10:00")
    if method == "GET":
        return client.get(url, query_string={"lt": token, **extra})
    return client.post(url, data={"lt": token, **extra})


@pytest.mark.parametrize(("endpoint", "rule", "method"), ROUTES,
                         ids=[f"{method} {endpoint}" for endpoint, _, method in ROUTES])
def test_an_assistant_gets_404_for_a_learner_outside_their_caseload(client, programme, endpoint,
                                                                   rule, method):
    response = _ask(client, endpoint, rule, method, programme.assistant_token,
                    programme.outside)
    if response.status_code == 403:
        # A learner's own route, which no mentor reaches, whichever learner it names.
        control = _ask(client, endpoint, rule, method, programme.assistant_token,
                       programme.inside)
        assert control.status_code == 403, (endpoint, control.status_code)
        return
    assert response.status_code == 404, (endpoint, response.status_code)
    assert "NOTE-CANARY" not in response.get_data(as_text=True)
    # The same route with the learner the assistant mentors: found (so the 404 above is the
    # caseload's doing, not a wrong id).
    control = _ask(client, endpoint, rule, method, programme.assistant_token, programme.inside)
    assert control.status_code != 404, (endpoint, control.status_code)


def test_the_lead_reaches_every_learner_in_assigned_mode(client, programme):
    course = programme.course
    for learner in course.learners:
        assert get(client, f"/mentor/learners/{learner.id}", course.mentor_token).status_code == 200


def test_assistants_may_switch_to_the_whole_course_where_the_course_allows_it(client,
                                                                              programme):
    course = programme.course
    outsider = course.learners[1]
    settings = db.session.get(ProgrammeSettings, 1) or db.session.query(ProgrammeSettings).one()
    settings.assistants_see_course = True
    db.session.commit()
    assert get(client, f"/mentor/learners/{outsider.id}",
               programme.assistant_token).status_code == 200
    # The cohort page still opens on the caseload, with the switch.
    page = text_of(get(client, "/mentor/", programme.assistant_token))
    assert "Showing your caseload" in page and outsider.display_name not in page
    whole = text_of(get(client, "/mentor/", programme.assistant_token, view="course"))
    assert outsider.display_name in whole


def test_every_mentor_sees_everyone_by_default(client, programme):
    db.session.query(ProgrammeSettings).delete()
    db.session.commit()
    outsider = programme.course.learners[1]
    assert get(client, f"/mentor/learners/{outsider.id}",
               programme.assistant_token).status_code == 200
    assert "Showing your caseload" not in text_of(get(client, "/mentor/",
                                                      programme.assistant_token))


def test_the_cohort_export_and_grades_hold_only_the_caseload(client, programme):
    course = programme.course
    inside, outside = course.learners[0].display_name, course.learners[1].display_name
    token = programme.assistant_token
    cohort = text_of(get(client, "/mentor/", token))
    assert inside in cohort and outside not in cohort
    export = get(client, "/mentor/export.csv", token).get_data(as_text=True)
    assert inside in export and outside not in export
    assert "Learner" in get(client, "/mentor/export.csv", token, view="course").get_data(
        as_text=True)
    assert outside not in get(client, "/mentor/export.csv", token,
                              view="course").get_data(as_text=True)
    grades = text_of(get(client, "/gradebook/", token))
    assert inside in grades and outside not in grades
    booking_form = text_of(get(client, "/mentor/sessions/new", token))
    assert inside in booking_form and outside not in booking_form
    # The lead's export has everyone.
    everyone = get(client, "/mentor/export.csv", course.mentor_token).get_data(as_text=True)
    assert inside in everyone and outside in everyone


def test_the_lead_assigns_by_hand_and_the_learner_sees_their_mentor(client, programme):
    course = programme.course
    third = course.learners[2]
    response = client.post("/mentor/programme/assignments", data={
        "lt": course.mentor_token, "learner_id": third.id, "mentor_id": programme.assistant.id})
    assert response.status_code == 303
    assert get(client, f"/mentor/learners/{third.id}",
               programme.assistant_token).status_code == 200
    plan = text_of(get(client, "/plan/", course.learner_tokens[2]))
    assert "Adam Assistant" in plan
    # An assistant may not assign, nor may a learner.
    refused = client.post("/mentor/programme/assignments", data={
        "lt": programme.assistant_token, "learner_id": course.learners[1].id,
        "mentor_id": programme.assistant.id})
    assert refused.status_code == 403
    assert client.post("/mentor/programme/assignments", data={
        "lt": course.learner_token, "learner_id": third.id,
        "mentor_id": programme.assistant.id}).status_code == 403


def test_the_lead_assigns_someone_of_another_course_and_gets_404(client, programme,
                                                                 make_activity, make_person):
    elsewhere = make_activity(platform=programme.course.activity.platform, label="B")
    stranger = make_person(elsewhere)
    response = client.post("/mentor/programme/assignments", data={
        "lt": programme.course.mentor_token, "learner_id": stranger.id,
        "mentor_id": programme.assistant.id})
    assert response.status_code == 404


def _upload(client, token, content: bytes):
    return client.post("/mentor/programme/assignments/upload", data={
        "lt": token, "file": (io.BytesIO(content), "assignments.csv")},
        content_type="multipart/form-data")


def test_a_csv_upload_assigns_every_row_or_names_each_bad_one(client, programme):
    course = programme.course
    second, third = course.learners[1], course.learners[2]
    bad = (f"learner,mentor\n{second.email},{programme.assistant.sub}\n"
           f"nobody@example.edu,{programme.assistant.sub}\n"
           f"{third.sub},someone-else\n{third.sub}\n").encode()
    response = _upload(client, course.mentor_token, bad)
    assert response.status_code == 400
    page = text_of(response)
    assert "Row 3: learner “nobody@example.edu”" in page
    assert "Row 4: mentor “someone-else”" in page
    assert "Row 5: expected two values" in page
    assert db.session.query(MentorAssignment).count() == 1  # nothing saved

    good = f"\ufefflearner;mentor\n{second.email.upper()};{programme.assistant.sub}\n".encode()
    response = _upload(client, course.mentor_token, good)
    assert response.status_code == 303
    assert get(client, f"/mentor/learners/{second.id}",
               programme.assistant_token).status_code == 200


def test_a_csv_upload_over_the_size_limit_is_refused(client, programme):
    course = programme.course
    line = f"{course.learners[1].sub},{programme.assistant.sub}\n".encode()
    response = _upload(client, course.mentor_token, line * (200 * 1024 // len(line) + 1))
    assert response.status_code == 400
    assert "larger than 200 KB" in text_of(response)
    assert _upload(client, programme.assistant_token, line).status_code == 403


def test_balancing_gives_the_fewest_first_and_is_deterministic(client, programme, make_person):
    course = programme.course
    activity = course.activity
    for n in range(3):
        make_person(activity, given_name=f"Zed{n}", family_name="Late")
    lead_id, assistant_id = course.mentor.id, programme.assistant.id
    response = client.post("/mentor/programme/assignments/balance", data={
        "lt": course.mentor_token, "mentor_id": [str(lead_id), str(assistant_id)]})
    assert response.status_code == 303
    rows = db.session.query(MentorAssignment).all()
    load = {lead_id: 0, assistant_id: 0}
    for row in rows:
        load[row.mentor_id] += 1
    # Six learners, one already with the assistant: three each.
    assert load == {lead_id: 3, assistant_id: 3}
    # In name order, first to the lead ("Maja Mentor" has nobody, fewest first).
    first = min((p for p in course.learners[1:]), key=lambda p: p.display_name.casefold())
    assert db.session.query(MentorAssignment).filter_by(learner_id=first.id).one().mentor_id \
        == lead_id
    # Again: nobody left without a mentor, nothing changes.
    client.post("/mentor/programme/assignments/balance", data={
        "lt": course.mentor_token, "mentor_id": [str(lead_id), str(assistant_id)]})
    assert db.session.query(MentorAssignment).count() == len(rows)


def test_a_site_administrator_gets_no_answers_in_an_assigned_course(client, programme,
                                                                    token_for, make_person):
    course = programme.course
    admin = make_person(course.activity, Role.MENTOR, given_name="Sam", family_name="Admin")
    token = token_for(course.activity, admin, Role.MENTOR, kind=MentorKind.SITE_ADMIN)
    page = get(client, f"/mentor/learners/{course.learners[1].id}", token)
    assert page.status_code == 200
    assert "NOTE-CANARY" not in get(client, f"/mentor/sessions/{programme.outside.session}",
                                    token).get_data(as_text=True)
    assert client.post("/mentor/programme/assignments", data={
        "lt": token, "learner_id": course.learners[2].id,
        "mentor_id": admin.id}).status_code == 403


def test_the_lead_assigns_from_the_learner_page(client, programme):
    course = programme.course
    third = course.learners[2]
    page = text_of(get(client, f"/mentor/learners/{third.id}", course.mentor_token))
    assert "Assigned mentors No mentor is assigned yet." in page
    response = client.post("/mentor/programme/assignments", data={
        "lt": course.mentor_token, "learner_id": third.id, "mentor_id": programme.assistant.id,
        "back": "learner"})
    assert response.status_code == 303
    assert f"/mentor/learners/{third.id}" in response.headers["Location"]
    page = text_of(get(client, f"/mentor/learners/{third.id}", course.mentor_token))
    assert "Assigned mentors Adam Assistant" in page
    # The assistant reads who mentors the learner, without the form.
    assistant_view = get(client, f"/mentor/learners/{third.id}", programme.assistant_token)
    assert "Assigned mentors Adam Assistant" in text_of(assistant_view)
    assert "Assign a mentor" not in text_of(assistant_view)


def test_learners_book_only_their_own_mentors_slots_where_mentors_are_assigned(client,
                                                                              programme):
    course = programme.course
    # No upcoming session of their own stands in the way of booking one.
    for session in db.session.query(MentoringSession):
        session.status = SessionStatus.CANCELLED
    start = in_days(10, 9)
    offered = {}
    for mentor in (course.mentor, programme.assistant):
        slot = AvailabilitySlot(course_id=course.activity.course.id, mentor_id=mentor.id,
                                start_dt=start, end_dt=start + timedelta(minutes=60),
                                mode=MeetingMode.ONLINE)
        db.session.add(slot)
        db.session.flush()
        offered[mentor.id] = slot.id
        start += timedelta(hours=2)
    db.session.commit()
    mine, lead_slot = offered[programme.assistant.id], offered[course.mentor.id]
    slots_page = get(client, "/plan/slots", course.learner_token).get_data(as_text=True)
    assert f"/plan/slots/{mine}/book" in slots_page
    assert f"/plan/slots/{lead_slot}/book" not in slots_page
    refused = client.post(f"/plan/slots/{lead_slot}/book", data={"lt": course.learner_token})
    assert refused.status_code == 404
    # A learner without a mentor in an assigned course is offered nothing to book.
    nothing = get(client, "/plan/slots", course.learner_tokens[2]).get_data(as_text=True)
    assert "/book" not in nothing


def test_the_mentors_session_list_leaves_out_learners_outside_the_caseload(client, programme):
    course = programme.course
    # The assistant met both learners before the course assigned mentors.
    for session in db.session.query(MentoringSession):
        session.mentor_id = programme.assistant.id
    db.session.commit()
    sessions = text_of(get(client, "/mentor/sessions/", programme.assistant_token))
    assert course.learners[0].display_name in sessions
    assert course.learners[1].display_name not in sessions


def test_settings_saved_in_a_request_are_what_the_rest_of_it_reads(app, make_activity,
                                                                  make_person, token_for):
    """The settings are read once per request: a course without settings whose lead saves
    "assigned" reads "assigned" afterwards in the same request, and a rolled-back save
    leaves the defaults."""
    from lti_tool.mentoring.programme.caseloads import save_settings
    from lti_tool.mentoring.scope import programme_settings
    from tests.mentoring.sessions_kit import mentored_course

    course = mentored_course(make_activity, make_person, token_for, learners=1)
    course_id = course.activity.course.id
    with app.test_request_context():
        assert programme_settings(course_id).mode is CaseloadMode.EVERYONE
        save_settings(course.mentor_launch, "assigned", True)
        assert programme_settings(course_id).mode is CaseloadMode.ASSIGNED
        db.session.rollback()
        assert programme_settings(course_id).mode is CaseloadMode.EVERYONE
    with app.test_request_context():
        assert programme_settings(course_id).mode is CaseloadMode.EVERYONE
        save_settings(course.mentor_launch, "assigned", False)
        db.session.commit()
    with app.test_request_context():
        assert programme_settings(course_id).mode is CaseloadMode.ASSIGNED
