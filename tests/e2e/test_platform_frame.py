"""The frame around the tool, as each LMS sizes it, and the console's launch options.

Canvas starts its frame small and grows it to the height the tool asks for with
lti.frameResize; Moodle sizes its frame to the window and ignores the message. The console
lets a developer launch in Polish, in another role, or as a person whose name and e-mail
the LMS keeps back.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

COURSE_ID = "2"
#: The Canvas frame's height before the tool says anything (devplatform.css).
CANVAS_START_HEIGHT = 450


def _console_row(page, platform, name: str):
    page.goto(platform.base_url + "/")
    course = page.locator("section.card").filter(has_text=f"(course id {COURSE_ID})")
    return course.get_by_role("row").filter(
        has=page.get_by_role("cell", name=name, exact=True))


def _user(platform, role: str) -> dict:
    return next(u for u in platform.users(COURSE_ID) if u["role"] == role)


def _content_height(frame) -> int:
    """The tool page's own height, as frame_resize.js measures it."""
    return frame.evaluate("""() => {
        const style = getComputedStyle(document.body);
        return Math.ceil(document.body.getBoundingClientRect().height +
                         parseFloat(style.marginTop) + parseFloat(style.marginBottom));
    }""")


@pytest.mark.parametrize("profile", ["canvas"])
def test_the_canvas_frame_grows_to_the_height_of_the_content(page, platform, screenshots_dir):
    # The cohort of 30 learners is far taller than the frame Canvas starts with.
    _console_row(page, platform, _user(platform, "Instructor")["name"]).get_by_role(
        "link", name="Launch as").click()
    iframe = page.locator("#tool_content")
    content = page.frame_locator("#tool_content")
    expect(content.get_by_role("table")).to_be_visible()
    frame = iframe.element_handle().content_frame()

    page.wait_for_function(
        "start => document.getElementById('tool_content').getBoundingClientRect().height > start",
        arg=CANVAS_START_HEIGHT)
    wanted = _content_height(frame)
    page.wait_for_function(
        "h => Math.abs(document.getElementById('tool_content').getBoundingClientRect().height"
        " - h) <= 1", arg=wanted)
    assert wanted > 2 * CANVAS_START_HEIGHT
    # No second scrollbar: the tool's page does not scroll inside the frame.
    assert frame.evaluate("() => document.scrollingElement.scrollHeight"
                          " <= window.innerHeight + 1")
    page.screenshot(path=screenshots_dir / "canvas-frame-grown.png", full_page=True)


@pytest.mark.parametrize("profile", ["moodle"])
def test_the_moodle_frame_fills_the_window_whatever_the_tool_says(page, platform):
    _console_row(page, platform, _user(platform, "Instructor")["name"]).get_by_role(
        "link", name="Launch as").click()
    content = page.frame_locator("#contentframe")
    expect(content.get_by_role("table")).to_be_visible()
    window_height = page.evaluate("() => window.innerHeight")
    height = page.locator("#contentframe").bounding_box()["height"]
    # calc(100vh - 9rem), at least 480 px: the window's height, not the content's.
    assert height == pytest.approx(max(window_height - 144, 480), abs=2)
    frame = page.locator("#contentframe").element_handle().content_frame()
    assert _content_height(frame) > height + 100


@pytest.mark.parametrize("profile", ["moodle", "canvas"])
def test_the_console_launches_in_polish_and_as_a_person_without_name(page, platform):
    learner = _user(platform, "Learner")
    page.goto(platform.base_url + "/")
    options = page.locator("#launch-options")
    options.get_by_label("Launch language").select_option("pl")
    options.get_by_label("No name or e-mail").check()
    options.get_by_role("button", name="Apply").click()
    expect(options.get_by_label("Launch language")).to_have_value("pl")

    _console_row(page, platform, learner["name"]).get_by_role("link", name="Launch as").click()
    content = page.frame_locator("#tool_content" if platform.is_canvas else "#contentframe")
    expect(content.get_by_role("button", name="Zacznij")).to_be_visible()
    who = content.locator("header .who")
    expect(who.locator(".role")).to_have_text("Uczestnik")
    expect(who).not_to_contain_text(learner["family_name"])


@pytest.mark.parametrize("profile", ["moodle"])
def test_the_console_switches_to_canvas(page, platform):
    page.goto(platform.base_url + "/")
    options = page.locator("#launch-options")
    options.get_by_label("LMS").select_option("canvas")
    options.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Playing Canvas")).to_be_visible()
    launch = _console_row(page, platform, _user(platform, "Learner")["name"]).get_by_role(
        "link", name="Launch as")
    expect(launch).to_have_attribute(
        "href", f"{platform.canvas_hosts.school}/courses/{COURSE_ID}?as="
                f"{_user(platform, 'Learner')['id']}")
