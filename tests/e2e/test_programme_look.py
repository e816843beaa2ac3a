"""The programme evaluation page with a programme to show: six learners who answered twice,
sessions held and missed, goals, overdue actions and ratings. Its screenshot is
docs/screenshots/programme.png (see test_look.py for when it is rewritten)."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, Person, Role, utcnow
from tests.e2e.test_look import screenshot
from tests.e2e.tour import Tour, complete_by_http
from tests.mentoring.programme_kit import seed_programme
from tests.mentoring.seeding import answer_patterns

pytestmark = pytest.mark.e2e
LEARNERS = 6


@pytest.fixture
def page(browser):
    """A tall page: the whole evaluation, change and ratings included, in one picture."""
    context = browser.new_context(viewport={"width": 1280, "height": 1900},
                                  device_scale_factor=1)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_the_programme_page_with_a_programme_to_show(page, driver, app, tool_server,
                                                    screenshots_dir):
    tour = Tour(app, driver, tool_server.url)
    patterns = answer_patterns()
    users = [driver.user("Learner", index) for index in range(1, LEARNERS + 1)]
    for index, user in enumerate(users):
        complete_by_http(driver, user["id"], patterns[index % len(patterns)][0])
    mentor = driver.launch(tour.mentor["id"])
    with app.app_context():
        learners = {person.sub: person.id for person in db.session.scalars(
            select(Person).join(Membership, Membership.person_id == Person.id)
            .where(Membership.role == Role.LEARNER))}
        mentor_id = db.session.scalar(select(Person.id).where(Person.sub == tour.mentor["id"]))
        course_id = db.session.scalar(select(Membership.course_id).where(
            Membership.person_id == mentor_id))
    # A retake for each, answered in another way: the change per dimension.
    for index, user in enumerate(users):
        allowed = requests.post(urljoin(driver.tool_url, "/questionnaire/retakes"),
                                data={"lt": mentor.token, "person_id": learners[user["id"]]})
        assert allowed.status_code == 200, allowed.text[:300]
        complete_by_http(driver, user["id"], patterns[(index + 1) % len(patterns)][0])
    with app.app_context():
        seed_programme(course_id, mentor_id, [learners[user["id"]] for user in users],
                       utcnow().date())

    page.goto(tour.url("programme.evaluation_page", lt=mentor.token))
    expect(page.get_by_role("heading", level=1)).to_have_text("Programme evaluation")
    expect(page.locator("#sessions-figures")).to_contain_text("Sessions held")
    assert "fewer than 5" not in page.locator("#rating-figures").inner_text()
    screenshot(page, "programme", screenshots_dir)
