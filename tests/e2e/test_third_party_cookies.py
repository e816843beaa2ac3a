"""Launches as users meet them, in three browser setups (tests/e2e/conftest.py):

- default: the tool's partitioned state cookie comes back inside the platform's frame;
- blocked: no cookie of the tool inside the platform's pages and no Platform Storage (Moodle):
  the tool offers "Open in a new window", and the new window launches;
- blocked-storage: the same browser, and a Canvas-like platform offering Platform Storage:
  the state goes through the platform's storage and the launch works in the frame.

Each test also checks which path was really taken (cookies kept, endpoints posted), so a
setup that did not block what it says would fail.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

COURSE_ID = "2"


def _user(platform, role: str) -> dict:
    return next(u for u in platform.users(COURSE_ID) if u["role"] == role)


def _open_activity(open_browser, platform, tool_url: str, user: dict):
    """Launch as `user` from the console; return where the tool shows its page: the
    content frame, or the new window the tool asked for."""
    page = open_browser.page
    page.goto(platform.base_url + "/")
    course = page.locator("section.card").filter(has_text=f"(course id {COURSE_ID})")
    row = course.get_by_role("row").filter(
        has=page.get_by_role("cell", name=user["name"], exact=True)
    )
    row.get_by_role("link", name="Launch as").click()
    content = page.frame_locator("#tool_content" if platform.is_canvas else "#contentframe")
    if not open_browser.setup.needs_new_window:
        return content

    new_window = content.get_by_role("link", name="Open in a new window")
    expect(new_window).to_be_visible()
    expect(content.locator("#new-window")).to_contain_text("blocks third-party cookies")
    # The browser really kept none of the tool's cookies in the platform's page, and the
    # platform was never asked (Moodle's launch id is still unused for the new window).
    assert open_browser.tool_cookies(tool_url) == []
    assert not open_browser.posted(tool_url + "/lti/launch")
    with page.context.expect_page() as opened:
        new_window.click()
    tab = opened.value
    tab.wait_for_load_state()
    return tab


def _expect_the_path_taken(open_browser, tool_url: str) -> None:
    setup = open_browser.setup
    storage_launch = open_browser.posted(tool_url + "/lti/launch/storage")
    assert storage_launch == (setup.cookies_blocked and setup.platform_storage)
    cookies = open_browser.tool_cookies(tool_url)
    if setup.cookies_blocked and setup.platform_storage:
        assert cookies == []
    else:
        assert cookies and all(c["secure"] and c["sameSite"] == "None" for c in cookies)
    if setup.needs_new_window:
        # Set by the new window, as a first-party cookie (partitioned under the tool itself).
        assert {c.get("partitionKey") for c in cookies} == {"http://127.0.0.1"}
    elif not setup.cookies_blocked:
        assert {c.get("partitionKey") for c in cookies} == {"http://localhost"}


def test_a_learner_reaches_the_questionnaire(browser_setup, platform, tool_server):
    learner = _user(platform, "Learner")

    where = _open_activity(browser_setup, platform, tool_server.url, learner)

    who = where.locator("header .who")
    expect(who).to_contain_text(learner["name"])
    expect(who.locator(".role")).to_have_text("Learner")
    expect(where.get_by_role("button", name="Start")).to_be_visible()
    _expect_the_path_taken(browser_setup, tool_server.url)


def test_a_mentor_reaches_the_cohort(browser_setup, platform, tool_server):
    instructor = _user(platform, "Instructor")
    title = next(c for c in platform.store.courses() if c["id"] == COURSE_ID)["title"]

    where = _open_activity(browser_setup, platform, tool_server.url, instructor)

    who = where.locator("header .who")
    expect(who).to_contain_text(instructor["name"])
    expect(who.locator(".role")).to_have_text("Mentor")
    expect(where.get_by_role("heading", level=1)).to_have_text(f"{title}: your learners")
    _expect_the_path_taken(browser_setup, tool_server.url)
