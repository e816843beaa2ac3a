"""Valid launches of every shape are accepted and land on the right page with real data."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Membership, Person, ResourceLink, Role
from tests.conftest import PROFILES

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


def set_roles(*roles):
    return lambda claims, header: claims.__setitem__(CLAIM + "roles", list(roles))


@pytest.mark.parametrize("profile", PROFILES)
def test_learner_lands_on_the_questionnaire_start(driver):
    user = driver.user("Learner")
    attempt = driver.launch(user["id"])
    assert "/questionnaire/" in attempt.landing_url
    page = driver.open(attempt)
    assert page.status_code == 200
    assert escape(user["name"]) in page.text
    assert "DMD101" in page.text or "Design Mindset" in page.text
    assert "Learner" in page.text


@pytest.mark.parametrize("profile", PROFILES)
def test_instructor_lands_on_the_cohort_and_sees_learners_who_launched(driver):
    # Without NRPS the cohort is who launched (with it, the whole roster: tests/lti/test_roster.py).
    driver.platform.settings["nrps_enabled"] = False
    learner = driver.user("Learner", 3)
    driver.launch(learner["id"])
    attempt = driver.launch(driver.user("Instructor")["id"])
    assert "/mentor/" in attempt.landing_url
    page = driver.open(attempt)
    assert page.status_code == 200
    assert "Mentor" in page.text
    assert escape(learner["name"]) in page.text
    assert escape(driver.user("Learner", 4)["name"]) not in page.text


@pytest.mark.parametrize(
    "roles",
    [
        [LIS + "membership#Instructor"],
        [LIS + "membership/Instructor#TeachingAssistant"],
        [LIS + "membership#ContentDeveloper"],
        [LIS + "membership#Administrator"],
        [LIS + "institution/person#Administrator"],
        ["Instructor"],
        [LIS + "membership#Learner", LIS + "membership#Instructor"],
    ],
)
def test_mentor_roles(driver, roles):
    attempt = driver.launch(driver.user("Learner")["id"], mutate=set_roles(*roles))
    assert "/mentor/" in attempt.landing_url


@pytest.mark.parametrize("roles", [[LIS + "membership#Learner"], ["Learner"],
                                   ["urn:lti:role:ims/lis/Learner"]])
def test_learner_roles(driver, roles):
    attempt = driver.launch(driver.user("Instructor")["id"], mutate=set_roles(*roles))
    assert "/questionnaire/" in attempt.landing_url


@pytest.mark.parametrize("roles", [[], ["http://example.com/role#Janitor"],
                                   [LIS + "membership#Observer"]])
def test_no_or_unknown_role_gets_a_page_that_says_so(app, driver, roles):
    attempt = driver.launch(driver.user("Learner")["id"], mutate=set_roles(*roles))
    response = attempt.launch_response
    assert response.status_code == 403
    assert "needs a course role" in response.text
    with app.app_context():
        membership = db.session.scalar(select(Membership))
        assert membership.role is Role.NONE


def test_no_personal_data_shows_a_stable_pseudonym(app, driver):
    def anonymous(claims, header):
        for key in ("name", "given_name", "family_name", "email"):
            claims.pop(key, None)

    attempt = driver.launch(driver.user("Learner")["id"], mutate=anonymous)
    page = driver.open(attempt).text
    with app.app_context():
        person = db.session.scalar(select(Person))
        assert person.name is None and person.email is None
        pseudonym = person.pseudonym
    assert pseudonym.startswith("Learner ") and len(pseudonym) == 12
    assert pseudonym in page
    again = driver.open(driver.launch(driver.user("Learner")["id"], mutate=anonymous)).text
    assert pseudonym in again


def test_email_only(app, driver):
    def email_only(claims, header):
        for key in ("name", "given_name", "family_name"):
            claims.pop(key, None)

    driver.launch(driver.user("Learner")["id"], mutate=email_only)
    with app.app_context():
        person = db.session.scalar(select(Person))
        assert person.email and person.display_name == person.pseudonym


def test_names_only(app, driver):
    user = driver.user("Learner")
    attempt = driver.launch(user["id"], mutate=lambda c, h: c.pop("email", None))
    assert escape(user["name"]) in driver.open(attempt).text


def test_no_context_gets_a_page_that_says_where_the_tool_works(app, driver):
    def no_context(claims, header):
        claims.pop(CLAIM + "context")

    attempt = driver.launch(driver.user("Learner")["id"], mutate=no_context)
    page = driver.open(attempt)
    assert page.status_code == 200
    assert "Open the tool from a course" in page.text


def test_launch_records_course_membership_and_resource_link(app, driver, platform):
    driver.launch(driver.user("Learner")["id"])
    with app.app_context():
        course = db.session.scalar(select(Course))
        assert course.context_id == "2" and course.label == "DMD101"
        assert course.memberships_url and "memberships" in course.memberships_url
        link = db.session.scalar(select(ResourceLink))
        assert link.resource_link_id == "1"
        assert link.ags_lineitem and "/lineitems/" in link.ags_lineitem
        assert any(s.endswith("/score") for s in link.ags_scopes)
        membership = db.session.scalar(select(Membership))
        assert membership.role is Role.LEARNER
        assert membership.roles == [LIS + "membership#Learner"]


def test_relaunch_updates_the_same_person(app, driver, platform):
    user = driver.user("Learner")
    driver.launch(user["id"])
    driver.launch(user["id"])
    with app.app_context():
        assert len(db.session.scalars(select(Person)).all()) == 1
