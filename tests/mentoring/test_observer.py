"""An LIS Mentor (Canvas's observer, often a parent) is never a course mentor.

With `role_scope_mentor` an observer reads, and only reads, the shared results and plan of
exactly the users the claim names; without it they get the no-role page. Nothing private
(mentors' private notes, the learner's answers, questions or reflections) reaches them.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
import requests
from markupsafe import escape

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, Person, Role
from lti_tool.lti.session import start_session
from lti_tool.mentoring import booking, notes
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import MeetingMode, NoteVisibility
from tests.mentoring.sessions_kit import get, in_days, mentored_course, text_of

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SHARED = "Shared: try the five whys before next week"
PRIVATE = "PRIVATE-CANARY seems anxious about the group project"


def observer_launch(roles, observes):
    def mutate(claims, header):
        claims[CLAIM + "roles"] = roles
        if observes is not None:
            claims[CLAIM + "role_scope_mentor"] = observes
    return mutate


@pytest.mark.parametrize("role", [LIS + "Mentor", "urn:lti:role:ims/lis/Mentor"])
def test_an_observer_launch_lists_only_the_observed_learner(driver, role):
    driver.platform.settings["nrps_enabled"] = False
    watched, other = driver.user("Learner", 5), driver.user("Learner", 6)
    for learner in (watched, other):
        driver.launch(learner["id"])
    attempt = driver.launch(driver.user("Instructor")["id"],
                            mutate=observer_launch([role], [watched["id"]]))
    assert "/observe/" in attempt.landing_url
    page = driver.open(attempt)
    assert page.status_code == 200
    assert escape(watched["name"]) in page.text
    assert escape(other["name"]) not in page.text
    # None of the course mentor's pages opens for an observer.
    for path in ("/mentor/", "/mentor/statistics", "/mentor/export.csv", "/mentor/sessions/"):
        refused = requests.get(urljoin(driver.tool_url, path),
                               params={"lt": attempt.token}, allow_redirects=False)
        assert refused.status_code == 403, path


@pytest.mark.parametrize("observes", [None, [], [""]])
def test_an_lis_mentor_who_observes_nobody_gets_the_no_role_page(driver, observes):
    attempt = driver.launch(driver.user("Instructor")["id"],
                            mutate=observer_launch([LIS + "Mentor"], observes))
    response = attempt.launch_response
    assert response.status_code == 403
    assert "This tool needs a course role" in response.text


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for, learners=2)


@pytest.fixture
def parent(course, make_person):
    """An observer of the course's first learner, as a Canvas parent would launch."""
    person = make_person(course.activity, Role.OBSERVER, given_name="Pat", family_name="Parent")
    return person


def observer_token(course, person, observes):
    token = start_session(person, course.activity.deployment.id, course.activity.course,
                          course.activity.link, Role.OBSERVER, "LtiResourceLinkRequest",
                          {CLAIM + "role_scope_mentor": observes})
    db.session.commit()
    return token


def test_the_observer_reads_shared_notes_never_private_ones(client, course, parent):
    session = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        in_days(5), 90, MeetingMode.IN_PERSON, "Room 2.14", "", "- Empathy"))
    notes.add_note(course.mentor_launch, session.id, NoteVisibility.LEARNER, SHARED)
    notes.add_note(course.mentor_launch, session.id, NoteVisibility.MENTORS, PRIVATE)
    notes.add_note(course.mentor_launch, session.id, NoteVisibility.AUTHOR, "AUTHOR-CANARY mine")
    booking.save_questions(course.learner_launch(), session.id, "LEARNER-QUESTION-CANARY")
    db.session.commit()
    token = observer_token(course, parent, [course.learner.sub])

    page = get(client, f"/observe/learners/{course.learner.id}", token)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert SHARED in text_of(page)
    assert "PRIVATE-CANARY" not in body
    assert "AUTHOR-CANARY" not in body
    assert "LEARNER-QUESTION-CANARY" not in body
    # Read-only: no form of any kind.
    assert "<form" not in body


def test_the_observer_gets_404_for_anyone_the_claim_does_not_name(client, course, parent,
                                                                  make_activity, make_person):
    token = observer_token(course, parent, [course.learner.sub])
    other_learner = course.learners[1]
    # The same sub as the observed learner, in another course of the same platform.
    elsewhere = make_activity(platform=course.activity.platform, label="B")
    twin = Person(platform_id=course.activity.platform.id, sub=course.learner.sub + "-b")
    db.session.add(twin)
    db.session.flush()
    db.session.add(Membership(course_id=elsewhere.course.id, person_id=twin.id,
                              role=Role.LEARNER, roles=["Learner"]))
    db.session.commit()
    for person_id in (other_learner.id, course.mentor.id, parent.id, twin.id, 99_999):
        assert get(client, f"/observe/learners/{person_id}", token).status_code == 404, person_id
    index = text_of(get(client, "/observe/", token))
    assert course.learner.display_name in index
    assert other_learner.display_name not in index


def test_an_observer_named_learner_of_another_course_is_not_shown(client, course, parent,
                                                                   make_activity, make_person):
    elsewhere = make_activity(platform=course.activity.platform, label="B")
    stranger = make_person(elsewhere, given_name="Stranger", family_name="Elsewhere")
    token = observer_token(course, parent, [stranger.sub])
    assert "Stranger" not in text_of(get(client, "/observe/", token))
    assert get(client, f"/observe/learners/{stranger.id}", token).status_code == 404


def _fill(rule, ids):
    """A concrete URL for a rule: every integer argument gets a real id of the course."""
    url = rule.rule
    for argument in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{argument}>", str(ids.get(argument, 1)), url)
    return url


def test_no_page_outside_the_observers_own_opens_with_an_observer_token(app, client, course,
                                                                       parent, take):
    attempt = take(course.activity, course.learner)
    token = observer_token(course, parent, [course.learner.sub])
    ids = {"person_id": course.learner.id, "learner_id": course.learner.id,
           "attempt_id": attempt.id}
    # Renewing the link token of one's own session (with a page token only) is everyone's.
    open_to_observers = {"observer.index", "observer.learner", "lti.no_course",
                         "lti.renew_session"}
    # Pages that need no launch at all (platform-facing, public) answer the same to anyone.
    public = {"static", "lti.jwks", "well_known.well_known_jwks", "lti.login", "lti.launch",
              "lti.launch_with_platform_storage", "lti.login_cookie", "lti.registration_info",
              "lti.canvas_json", "lti.register", "health.healthz", "health.readyz",
              "dataprotection.privacy", "sessions.feed", "home.index", "home.favicon"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in open_to_observers or rule.endpoint in public:
            continue
        url = _fill(rule, ids)
        if "GET" in rule.methods:
            status = client.get(url, query_string={"lt": token}).status_code
            assert status in (403, 404), (rule.endpoint, url, status)
            checked += 1
        if "POST" in rule.methods:
            status = client.post(url, data={"lt": token}).status_code
            assert status in (400, 403, 404), (rule.endpoint, url, status)
            checked += 1
    assert checked > 30
