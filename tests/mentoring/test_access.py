"""A mentor reaches only the launch's course: other courses and platforms look like nothing.

A second development platform runs in this module so that the same context id ("2") and
the same user ids exist on two platforms, as they would on two real Moodle sites.
"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Person, Platform, Role
from tests.conftest import register, start_platform
from tests.launch_driver import LaunchDriver


@pytest.fixture
def two_courses(make_activity, make_person, token_for, take):
    """Courses A and B on one platform, each with a mentor and a learner who completed."""
    a = make_activity(label="A")
    b = make_activity(platform=a.platform, label="B")
    for course in (a, b):
        course.mentor = make_person(course, Role.MENTOR)
        course.learner = make_person(course, given_name=f"Learner{course.course.label}")
        course.attempt = take(course, course.learner)
        course.token = token_for(course, course.mentor)
    return a, b


def get(client, path, token):
    return client.get(path, query_string={"lt": token})


def test_a_mentor_gets_404_for_another_courses_learner_and_attempts(client, two_courses):
    a, b = two_courses
    assert get(client, f"/mentor/learners/{a.learner.id}", a.token).status_code == 200
    for url in (
        f"/mentor/learners/{b.learner.id}",
        f"/mentor/learners/{b.learner.id}/attempts/{b.attempt.id}",
        # A's own learner with B's attempt id, and the other way round.
        f"/mentor/learners/{a.learner.id}/attempts/{b.attempt.id}",
        f"/mentor/learners/{b.learner.id}/attempts/{a.attempt.id}",
        # Guessed ids: the mentor themself (not a learner) and ids that do not exist.
        f"/mentor/learners/{a.mentor.id}",
        f"/mentor/learners/{b.learner.id + 1000}",
        f"/mentor/learners/{a.learner.id}/attempts/{b.attempt.id + 1000}",
    ):
        assert get(client, url, a.token).status_code == 404, url


def test_pages_and_export_hold_only_the_launchs_course(client, two_courses):
    a, b = two_courses
    page = get(client, "/mentor/", a.token).get_data(as_text=True)
    statistics = get(client, "/mentor/statistics", a.token).get_data(as_text=True)
    export = get(client, "/mentor/export.csv", a.token).get_data().decode("utf-8-sig")
    assert "LearnerA" in page and "LearnerB" not in page
    assert "Of 1 completed response" in statistics and "LearnerB" not in statistics
    assert "LearnerA" in export and "LearnerB" not in export


def test_a_retake_cannot_be_allowed_for_another_courses_learner(client, two_courses):
    a, b = two_courses
    response = client.post("/questionnaire/retakes",
                           data={"lt": a.token, "person_id": b.learner.id})
    assert response.status_code == 404


@pytest.fixture(scope="module")
def second_platform(app, tool_server, tmp_root):
    """Another development platform (another Moodle site) with the same course and user ids."""
    server, platform = start_platform(tmp_root, tool_server.url, "mentoring-second",
                                       LEARNERS=5)
    yield platform
    server.stop()


@pytest.fixture
def second_registered(app, second_platform):
    """The second platform registered; afterwards this worker forgets its framing origin,
    which the security headers cache per process, so that later tests do not see it."""
    from lti_tool.headers import forget_origins

    register(app, second_platform)
    yield second_platform
    with app.app_context():
        forget_origins()


def test_a_mentor_gets_404_for_a_learner_of_another_platform(tool_server, driver, platform,
                                                              second_registered):
    second_platform = second_registered
    learner_id = driver.user("Learner", 0)["id"]
    # A learner of the first platform completes nothing but launches, so the tool knows them.
    driver.launch(learner_id)
    other = LaunchDriver(tool_server.url, second_platform)
    mentor = other.launch(other.user("Instructor")["id"])
    landing = requests.get(urljoin(tool_server.url, mentor.landing_url))
    assert landing.status_code == 200

    db.session.expire_all()
    first = db.session.scalar(select(Platform).where(Platform.issuer == platform.issuer))
    stranger = db.session.scalar(
        select(Person).where(Person.platform_id == first.id, Person.sub == learner_id))
    twin = db.session.scalar(
        select(Person).where(Person.platform_id != first.id, Person.sub == learner_id))
    assert stranger is not None and twin is not None  # the same user id on both platforms

    def page(person_id: int) -> int:
        return requests.get(urljoin(tool_server.url, f"/mentor/learners/{person_id}"),
                            params={"lt": mentor.token}).status_code

    assert page(twin.id) == 200  # synced from the second platform's roster
    assert page(stranger.id) == 404
    export = requests.get(urljoin(tool_server.url, "/mentor/export.csv"),
                          params={"lt": mentor.token})
    assert export.status_code == 200
    assert len(export.content.decode("utf-8-sig").splitlines()) == 1 + 5
