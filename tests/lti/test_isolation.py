"""Tenant isolation: two platforms whose courses share a context id and whose users share
subs are two sets of courses and people, and no page of one shows anything of the other.

Pages covered: the cohort (/mentor/), its CSV export and statistics, a learner's page and
one of their attempts (/mentor/learners/<id>[/attempts/<id>]), allowing a retake
(POST /questionnaire/retakes), and a learner's attempt pages, autosave and results
(/questionnaire/attempts/<id>/...).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, Platform

ALPHA_NAME = {"given_name": "Alfred", "family_name": "Alpha-Only", "name": "Alfred Alpha-Only",
              "email": "alfred@alpha.example"}
BETA_NAME = {"given_name": "Brigitte", "family_name": "Beta-Only", "name": "Brigitte Beta-Only",
             "email": "brigitte@beta.example"}


def named(identity: dict):
    return lambda claims, header: claims.update(identity)


class Site:
    """One platform with a learner and a mentor who have launched the tool."""

    def __init__(self, app, platform, driver, identity):
        self.platform = platform
        self.driver = driver
        self.learner_sub = driver.user("Learner")["id"]
        self.mentor_sub = driver.user("Instructor")["id"]
        learner = driver.launch(self.learner_sub, mutate=named(identity))
        self.learner_token = learner.token
        self.mentor_token = driver.launch(self.mentor_sub).token
        with app.app_context():
            self.person_id = db.session.scalar(
                select(Person.id).join(Person.platform).where(
                    Person.sub == self.learner_sub, Platform.issuer == platform.issuer)
            )
        self.attempt_id: int | None = None

    def url(self, path: str) -> str:
        return urljoin(self.driver.tool_url, path)

    def get(self, path: str, token: str) -> requests.Response:
        return requests.get(self.url(path), params={"lt": token}, allow_redirects=False,
                            timeout=30)

    def post(self, path: str, token: str, **data) -> requests.Response:
        return requests.post(self.url(path), data={"lt": token, **data},
                             allow_redirects=False, timeout=30)

    def begin_attempt(self) -> int:
        response = self.post("/questionnaire/begin", self.learner_token)
        assert response.status_code == 303, response.text[:500]
        self.attempt_id = int(re.search(r"/attempts/(\d+)/", response.headers["Location"])[1])
        return self.attempt_id


@pytest.fixture
def sites(app, start_platform, driver_for):
    """Two platforms, alpha and beta, both with course "2" and the same user ids."""
    made = []
    for name, identity in (("alpha", ALPHA_NAME), ("beta", BETA_NAME)):
        platform = start_platform(name)
        # Without NRPS the cohort lists the people who launched, with the names they
        # launched with, which makes each platform's learner recognisable.
        platform.settings["nrps_enabled"] = False
        made.append(Site(app, platform, driver_for(platform), identity))
    return made


def test_same_context_id_and_sub_are_different_rows(app, sites):
    alpha, beta = sites
    assert alpha.learner_sub == beta.learner_sub
    with app.app_context():
        people = db.session.scalars(select(Person).where(Person.sub == alpha.learner_sub)).all()
        courses = db.session.scalars(select(Course).where(Course.context_id == "2")).all()
        assert len(people) == 2 and len({p.platform_id for p in people}) == 2
        assert len(courses) == 2 and len({c.platform_id for c in courses}) == 2
        assert {p.name for p in people} == {ALPHA_NAME["name"], BETA_NAME["name"]}
    assert alpha.person_id != beta.person_id


def test_a_mentor_sees_only_their_own_platforms_learners(sites):
    alpha, beta = sites
    for mine, my_name, their_name in ((alpha, ALPHA_NAME, BETA_NAME),
                                      (beta, BETA_NAME, ALPHA_NAME)):
        page = mine.get("/mentor/", mine.mentor_token)
        assert page.status_code == 200
        assert my_name["family_name"] in page.text
        assert their_name["family_name"] not in page.text
        assert their_name["email"] not in page.text


def test_the_export_and_statistics_hold_only_their_own_platform(sites):
    alpha, beta = sites
    export = alpha.get("/mentor/export.csv", alpha.mentor_token)
    assert export.status_code == 200
    assert ALPHA_NAME["family_name"] in export.text
    assert BETA_NAME["family_name"] not in export.text
    statistics = alpha.get("/mentor/statistics", alpha.mentor_token)
    assert statistics.status_code == 200 and BETA_NAME["family_name"] not in statistics.text


def test_a_mentor_cannot_open_the_other_platforms_learner_by_id(sites):
    alpha, beta = sites
    beta_attempt = beta.begin_attempt()
    assert beta.get(f"/mentor/learners/{beta.person_id}", beta.mentor_token).status_code == 200
    for path in (f"/mentor/learners/{beta.person_id}",
                 f"/mentor/learners/{beta.person_id}/attempts/{beta_attempt}",
                 f"/mentor/learners/{alpha.person_id}/attempts/{beta_attempt}"):
        response = alpha.get(path, alpha.mentor_token)
        assert response.status_code == 404, path
        assert BETA_NAME["family_name"] not in response.text
    retake = alpha.post("/questionnaire/retakes", alpha.mentor_token,
                        person_id=str(beta.person_id))
    assert retake.status_code == 404


def test_a_learner_cannot_reach_the_other_platforms_attempt_with_the_same_sub(sites):
    alpha, beta = sites
    beta_attempt = beta.begin_attempt()
    assert beta.get(f"/questionnaire/attempts/{beta_attempt}/pages/0",
                    beta.learner_token).status_code == 200
    for path in (f"/questionnaire/attempts/{beta_attempt}/pages/0",
                 f"/questionnaire/attempts/{beta_attempt}/results"):
        assert alpha.get(path, alpha.learner_token).status_code == 404, path
    autosave = requests.post(
        alpha.url(f"/questionnaire/attempts/{beta_attempt}/answers"),
        json={"item_id": "x", "value": 3, "page": 0},
        headers={"X-Launch-Token": alpha.learner_token}, timeout=30,
    )
    assert autosave.status_code == 404
    page_post = alpha.post(f"/questionnaire/attempts/{beta_attempt}/pages/0",
                           alpha.learner_token, go="next")
    assert page_post.status_code == 404


def test_a_launch_token_of_one_platform_never_shows_the_other(sites):
    alpha, beta = sites
    # The learner of alpha, with the same sub as beta's learner, starts on their own page.
    start = alpha.get("/questionnaire/", alpha.learner_token)
    assert start.status_code == 200
    assert ALPHA_NAME["name"] in start.text and BETA_NAME["name"] not in start.text
