"""Journeys only Canvas has, against the development platform's Canvas profile over HTTP:
an observer (LIS Mentor) with and without the observees named, the course navigation
placement and name_only privacy. (Grades, the roster and registration run against both
profiles in their own tests.)"""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, ResourceLink

pytestmark = pytest.mark.parametrize("profile", ["canvas"])

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def test_an_observer_without_public_privacy_gets_the_no_role_page(driver):
    # Canvas names the observed students (role_scope_mentor) only to tools whose privacy
    # level is public; with name_only, the tool's own level, an observer is an LIS Mentor
    # observing nobody.
    attempt = driver.launch(driver.user("Mentor")["id"])
    response = attempt.launch_response
    assert response.status_code == 403
    assert "This tool needs a course role" in response.text


def test_an_observer_with_public_privacy_follows_their_child(driver, platform):
    platform.settings["canvas_privacy"] = "public"
    observer = driver.user("Mentor")
    child = next(u for u in platform.users() if u["id"] == observer["observes"])
    other = driver.user("Learner", 1)
    driver.launch(child["id"])
    driver.launch(other["id"])

    attempt = driver.launch(observer["id"])

    assert "/observe/" in attempt.landing_url
    page = driver.open(attempt)
    assert page.status_code == 200
    assert escape(child["name"]) in page.text
    assert escape(other["name"]) not in page.text


def test_a_course_navigation_launch_names_the_course_and_no_grade_column(app, driver, platform):
    learner = driver.user("Learner")
    attempt = driver.launch(learner["id"], resource_link_id=None, placement="course_navigation")
    assert "/questionnaire/" in attempt.landing_url
    with app.app_context():
        course = db.session.scalar(select(Course))
        link = db.session.scalar(select(ResourceLink))
        # Canvas: the course navigation link's id is the course's own (opaque) id, and only an
        # assignment launch names a line item.
        assert link.resource_link_id == course.context_id and len(course.context_id) == 40
        assert link.ags_lineitem is None and link.ags_lineitems.endswith("/line_items")


def test_name_only_privacy_gives_names_and_keeps_the_email(app, driver, platform):
    learner = driver.user("Learner")
    driver.launch(learner["id"])
    with app.app_context():
        person = db.session.scalar(select(Person))
        assert person.sub == platform.sub(learner["id"]) and len(person.sub) == 36
        assert (person.given_name, person.family_name) == (learner["given_name"],
                                                           learner["family_name"])
        assert person.email is None

