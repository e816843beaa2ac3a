"""The mentoring journey in Chromium, the tool inside the platform's cross-site iframe:
the mentor books a session → the learner sees it and downloads its .ics → the mentor sets a
goal with two actions → the learner ticks one off → the mentor sees the progress on the
cohort page. The browser runs in Europe/Warsaw, so every time is checked in that zone."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import FrameLocator, Page, expect
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.mentoring.models import MentoringSession

pytestmark = pytest.mark.e2e

COURSE_ID = "2"
ZONE = "Europe/Warsaw"


@pytest.fixture
def page(browser):
    """A page in a new browser context whose clock is in Warsaw."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=ZONE,
                                  accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def _user(platform, role: str) -> dict:
    return next(u for u in platform.users(COURSE_ID) if u["role"] == role)


def _launch_as(page: Page, platform, name: str) -> FrameLocator:
    """Open the platform's console and launch the tool as this user; the tool's frame."""
    page.goto(platform.issuer + "/")
    course = page.locator("section.card").filter(has_text=f"(course id {COURSE_ID})")
    row = course.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
    row.get_by_role("link", name="Launch as").click()
    content = page.frame_locator("#contentframe")
    expect(content.locator("header .who")).to_contain_text(name)
    return content


def test_book_download_plan_tick_and_see_progress(page, platform, tool_server, app,
                                                  screenshots_dir):
    learner = _user(platform, "Learner")
    mentor = _user(platform, "Instructor")
    day = date(utcnow().year + 1, 1, 15)

    # The learner opens the tool once, so that the cohort lists them.
    _launch_as(page, platform, learner["name"])

    # 1. The mentor books a 90-minute session from the Sessions page.
    tool = _launch_as(page, platform, mentor["name"])
    tool.get_by_role("link", name="Sessions").click()
    expect(tool.locator("[data-timezone]")).to_have_attribute("data-timezone", ZONE)
    tool.get_by_role("link", name="Book a session").click()
    tool.get_by_label("Learner").select_option(label=learner["name"])
    tool.get_by_label("Date", exact=True).fill(day.isoformat())
    tool.get_by_label("Start time").fill("10:00")
    expect(tool.get_by_label("Duration (minutes)")).to_have_value("90")
    tool.get_by_role("radio", name="In person").check()
    tool.get_by_label("Location (in person)").fill("Room 2.14, Design Building")
    expect(tool.get_by_label("Meeting link (online)")).to_be_hidden()
    tool.get_by_role("button", name="Book the session").click()
    expect(tool.get_by_role("status")).to_have_text("The session is booked.")
    expect(tool.locator(".session-facts")).to_contain_text("10:00–11:30 CET")
    # The learner has not answered the questionnaire yet: the agenda starts from it.
    expect(tool.locator(".preformatted").first).to_contain_text("Complete the questionnaire")
    page.screenshot(path=screenshots_dir / "mentoring-booked.png", full_page=True)

    # 2. The learner finds it on their plan and downloads it for their calendar.
    tool = _launch_as(page, platform, learner["name"])
    tool.get_by_role("link", name="My development plan").click()
    card = tool.locator(".session-card")
    expect(card).to_contain_text("10:00–11:30 CET")
    expect(card).to_contain_text(mentor["name"])
    with page.expect_download() as download_info:
        card.get_by_role("link", name="Add to my calendar (.ics)").click()
    calendar = Calendar.from_ical(download_info.value.path().read_bytes())
    [event] = calendar.walk("VEVENT")
    warsaw = ZoneInfo(ZONE)
    assert event.start == datetime(day.year, day.month, day.day, 10, 0, tzinfo=warsaw)
    assert event.end == datetime(day.year, day.month, day.day, 11, 30, tzinfo=warsaw)
    assert event["DTSTART"].params["TZID"] == ZONE
    with app.app_context():
        session = db.session.scalar(select(MentoringSession))
        assert event["UID"] == session.uid
        assert session.start_dt == datetime(day.year, day.month, day.day, 9, 0)  # UTC

    # 3. The mentor sets a goal from a suggestion and plans two actions.
    tool = _launch_as(page, platform, mentor["name"])
    tool.get_by_role("link", name=learner["name"], exact=True).click()
    tool.get_by_role("link", name="Development plan: goals and sessions").click()
    tool.get_by_role("link", name="New goal").click()
    tool.locator("details.picker-dimension summary").first.click()
    suggestion = tool.locator("[data-pick]").first
    text = suggestion.inner_text()
    suggestion.click()  # goal_picker.js fills the form in place
    # The suggestion is the description; the title is a few words to adapt.
    expect(tool.get_by_label("Description")).to_have_value(text)
    expect(tool.get_by_label("Title")).to_have_value(re.compile("^Develop "))
    tool.get_by_label("Title").fill("Talk to three users")
    tool.get_by_role("button", name="Set the goal").click()
    expect(tool.get_by_role("status")).to_contain_text("The goal is saved.")
    goal = tool.locator("article.goal")
    for title in ("Interview a library user", "Write down one surprise"):
        # The new goal's action form is open; later ones are one click away.
        adding = goal.locator("details.add-action")
        if adding.get_attribute("open") is None:
            adding.locator("summary").click()
        goal.get_by_label("Action", exact=True).fill(title)
        goal.get_by_role("button", name="Add").click()
        goal = tool.locator("article.goal")
        expect(goal.get_by_role("cell", name=title)).to_be_visible()
    expect(goal.locator("[data-goal-progress]")).to_have_text("0%")

    # 4. The learner ticks one action off with a reflection.
    tool = _launch_as(page, platform, learner["name"])
    tool.get_by_role("link", name="My development plan").click()
    action = tool.locator("li.action", has_text="Interview a library user")
    action.get_by_label(re.compile("What did you do")).fill("She never uses the catalogue.")
    action.get_by_role("button", name="Tick off").click()
    expect(tool.get_by_role("status")).to_contain_text("ticked off")
    expect(tool.locator("[data-goal-progress]")).to_have_text("50%")
    page.screenshot(path=screenshots_dir / "mentoring-learner-plan.png", full_page=True)

    # 5. The mentor sees the progress, the next session and no overdue action in the cohort.
    tool = _launch_as(page, platform, mentor["name"])
    row = tool.get_by_role("row").filter(
        has=tool.get_by_role("link", name=learner["name"], exact=True))
    expect(row.locator("td.goals")).to_contain_text("1 (50%)")
    expect(row.locator("td.next-session")).to_contain_text("10:00 CET")
    expect(row.locator("td.overdue-actions")).to_have_text("0")
    row.scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "mentoring-cohort-progress.png", full_page=True)
