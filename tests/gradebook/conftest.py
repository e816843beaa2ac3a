"""Gradebook fixtures: learners who submit through the tool's pages, a mentor's browser, one
delivery pass, and the platform's gradebook read the way its teacher would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import select

from lti_tool.devplatform.store import insert_activity
from lti_tool.extensions import db
from lti_tool.gradebook import sync
from lti_tool.gradebook.models import ScoreRecord
from lti_tool.identity.models import Person
from lti_tool.questionnaire.models import Attempt, Result
from lti_tool.questionnaire.versions import current_instrument

INSTRUMENT = current_instrument()
PAGES = INSTRUMENT.pages()


def careful_answers(keyed: int = 5) -> dict[str, int]:
    """Every item answered: `keyed` as it counts (reverse items mirrored), checks passed."""
    return {
        item.id: item.attention_check_expected if item.is_attention_check
        else (8 - keyed if item.reverse else keyed)
        for item in INSTRUMENT.items
    }


@dataclass
class Browser:
    """One user's browser after a launch: GETs with `?lt=`, POSTs with the hidden `lt`."""

    tool_url: str
    token: str
    landing_url: str

    def get(self, path: str, **params) -> requests.Response:
        params.setdefault("lt", self.token)
        return requests.get(urljoin(self.tool_url, path), params=params, allow_redirects=False)

    def post(self, path: str, data: dict | None = None) -> requests.Response:
        return requests.post(urljoin(self.tool_url, path), data={"lt": self.token, **(data or {})},
                             allow_redirects=False)


def launch(driver, user_id: str, **kwargs) -> Browser:
    """Launch the tool as this user (from activity 1 unless `resource_link_id` says another)."""
    attempt = driver.launch(user_id, **kwargs)
    return Browser(driver.tool_url, attempt.token, attempt.landing_url)


def submit(driver, user_id: str, keyed: int = 5, **kwargs) -> Browser:
    """Launch as a learner and answer every page through the tool's forms, then submit."""
    learner = launch(driver, user_id, **kwargs)
    response = learner.post("/questionnaire/begin")
    assert response.status_code == 303, response.text[:500]
    attempt_id = int(re.search(r"/attempts/(\d+)/", response.headers["Location"])[1])
    answers = careful_answers(keyed)
    for index, items in enumerate(PAGES):
        go = "submit" if index == len(PAGES) - 1 else "next"
        fields = {f"item-{item.id}": str(answers[item.id]) for item in items}
        response = learner.post(f"/questionnaire/attempts/{attempt_id}/pages/{index}",
                                {**fields, "go": go, "seconds": "60"})
        assert response.status_code == 303, response.text[:500]
    assert "/results" in response.headers["Location"]
    return learner


@pytest.fixture(autouse=True)
def _empty_platform_gradebook(platform):
    """The tool's tables are emptied before each test; the platform's grades go with them,
    or a score sent by the previous test in the same second would meet Moodle's 409 rule."""
    with platform.store.write() as conn:
        conn.execute("DELETE FROM grades")
        conn.execute("DELETE FROM scores")


@pytest.fixture
def learners(driver):
    """The platform's learners, as user dicts (id, name, role ...)."""
    return [user for user in driver.platform.users() if user["role"] == "Learner"]


@pytest.fixture
def instructor(driver):
    """The course's instructor (a mentor in the tool)."""
    return driver.user("Instructor")


@pytest.fixture
def mentor(driver, instructor):
    """The instructor's browser after a launch of activity 1."""
    return launch(driver, instructor["id"])


@pytest.fixture
def deliver(app):
    """Run one delivery pass, as `flask grades sync` does; `now` pretends time has passed."""

    def run(now: datetime | None = None) -> sync.PassReport:
        with app.app_context():
            return sync.deliver_due(now)

    return run


@pytest.fixture
def records(app):
    """Every ScoreRecord, oldest first, detached for reading (sub = the platform's user id)."""

    def read() -> list[dict]:
        with app.app_context():
            rows = db.session.execute(
                select(ScoreRecord, Person.sub).join(Person).order_by(ScoreRecord.id)
            ).all()
            return [{**{c.name: getattr(r, c.name) for c in ScoreRecord.__table__.columns},
                     "sub": sub} for r, sub in rows]

    return read


@pytest.fixture
def overall_of(app):
    """The overall index stored for a platform user's latest result."""

    def read(sub: str) -> float:
        with app.app_context():
            return db.session.scalar(
                select(Result.overall).join(Attempt).join(Person, Person.id == Attempt.person_id)
                .where(Person.sub == sub).order_by(Result.id.desc()).limit(1)
            )

    return read


def item_of(platform, resource_link_id: str = "1") -> dict:
    """The platform's (single) line item of an activity, with current scores and history."""
    items = [item for item in platform.gradebook() if item["resourceLinkId"] == resource_link_id]
    assert len(items) == 1, items
    return items[0]


@pytest.fixture
def new_activity(platform):
    """A new activity in course 2 without a grade item (as added without grading)."""

    def make(title: str = "Ungraded questionnaire") -> str:
        with platform.store.write() as conn:
            activity_id, _ = insert_activity(conn, "2", title)
        return str(activity_id)

    return make
