"""Launch the tool from the development platform's console in a real browser, as Moodle and
as Canvas.

The platform (localhost; in Canvas the school's own host, school.localhost, with Canvas's
OIDC host sso.localhost) embeds the tool (127.0.0.1) in an iframe, so the whole OIDC launch
runs cross-site inside the frame, as it does in the LMS.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Frame, Page, expect

from tests.conftest import PROFILES

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("profile", PROFILES)]

COURSE_ID = "2"
#: The frame each LMS shows the tool in.
FRAME = {"moodle": "#contentframe", "canvas": "#tool_content"}


def _user(platform, role: str) -> dict:
    return next(u for u in platform.users(COURSE_ID) if u["role"] == role)


def _launch_as(page: Page, platform, name: str) -> Frame:
    """Open the console, click "Launch as" in the named user's row, return the content frame."""
    page.goto(platform.base_url + "/")
    course = page.locator("section.card").filter(has_text=f"(course id {COURSE_ID})")
    row = course.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
    expect(row).to_have_count(1)
    row.get_by_role("link", name="Launch as").click()
    iframe = page.locator(FRAME[platform.profile])
    expect(iframe).to_be_visible()
    frame = iframe.element_handle().content_frame()
    assert frame is not None
    return frame


def _expect_on_tool(frame: Frame, tool_url: str) -> None:
    """The frame ended on the tool's origin (not the platform's, not an error page)."""
    assert frame.url.startswith(tool_url + "/"), frame.url


def _course_title(platform) -> str:
    return next(c for c in platform.store.courses() if c["id"] == COURSE_ID)["title"]


def test_a_learner_launched_from_the_console_sees_the_questionnaire(
    page, platform, tool_server, screenshots_dir
):
    learner = _user(platform, "Learner")
    title = _course_title(platform)

    frame = _launch_as(page, platform, learner["name"])
    content = page.frame_locator(FRAME[platform.profile])
    who = content.locator("header .who")
    expect(who).to_contain_text(learner["name"])
    expect(who).to_contain_text(title)
    expect(who.locator(".role")).to_have_text("Learner")
    expect(who.locator(".role")).to_have_class(re.compile(r"\brole-learner\b"))
    expect(content.get_by_role("button", name="Start")).to_be_visible()

    frame.wait_for_load_state()
    _expect_on_tool(frame, tool_server.url)
    # The launch answered with the landing page itself, whose script put the page's own
    # address in place of the launch's: reloading asks for the page, not the spent launch.
    expect(content.locator("body")).to_be_visible()
    assert "/questionnaire/?lt=" in frame.url, frame.url
    frame.goto(frame.url)  # what reloading the frame does now
    expect(content.get_by_role("button", name="Start")).to_be_visible()
    course_page = {"moodle": platform.base_url + "/course/view.php",
                   "canvas": platform.canvas_hosts.school + f"/courses/{COURSE_ID}"}
    assert page.url.startswith(course_page[platform.profile]), page.url

    page.screenshot(path=screenshots_dir / f"learner-landing-{platform.profile}.png",
                    full_page=True)


def test_an_instructor_sees_the_cohort_with_a_learner_who_launched(
    page, platform, tool_server, screenshots_dir
):
    learner = _user(platform, "Learner")
    instructor = _user(platform, "Instructor")
    title = _course_title(platform)

    # The learner opens the tool first, so that the tool knows them.
    _launch_as(page, platform, learner["name"])
    expect(page.frame_locator(FRAME[platform.profile]).locator("header .who")).to_contain_text(
        learner["name"]
    )

    frame = _launch_as(page, platform, instructor["name"])
    content = page.frame_locator(FRAME[platform.profile])
    who = content.locator("header .who")
    expect(who).to_contain_text(instructor["name"])
    expect(who.locator(".role")).to_have_text("Mentor")
    expect(content.get_by_role("heading", level=1)).to_have_text(f"{title}: your learners")
    cohort = content.get_by_role("table")
    expect(cohort.get_by_role("link", name=learner["name"], exact=True)).to_be_visible()
    # The whole roster comes from the LMS (NRPS): learners who never opened the tool too.
    never = [u for u in platform.users() if u["role"] == "Learner"][-1]
    expect(cohort.get_by_role("link", name=never["name"], exact=True)).to_be_visible()

    frame.wait_for_load_state()
    _expect_on_tool(frame, tool_server.url)

    page.screenshot(path=screenshots_dir / f"mentor-landing-{platform.profile}.png",
                    full_page=True)


def test_a_canvas_observer_follows_their_child(page, platform, tool_server, profile):
    if profile != "canvas":
        pytest.skip("observers are Canvas's")
    observer = _user(platform, "Mentor")
    child = next(u for u in platform.users(COURSE_ID) if u["id"] == observer["observes"])
    page.goto(platform.base_url + "/")
    # Canvas names the observed students only to tools with the public privacy level.
    options = page.locator("#launch-options")
    options.get_by_label("Privacy level").select_option("public")
    options.get_by_role("button", name="Apply").click()
    _launch_as(page, platform, child["name"])
    expect(page.frame_locator(FRAME["canvas"]).locator("header .who")).to_contain_text(
        child["name"])

    _launch_as(page, platform, observer["name"])
    content = page.frame_locator(FRAME["canvas"])
    expect(content.get_by_role("heading", level=1)).to_have_text("Learners you follow")
    expect(content.get_by_role("link", name=child["name"])).to_be_visible()
