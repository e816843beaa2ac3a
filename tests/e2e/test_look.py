"""How the pages look: screenshots of the main pages for the README, every page on a 360 px
phone without sideways scrolling, and the printed results holding the report alone.

The screenshots land in docs/screenshots/ when one is missing or UPDATE_SCREENSHOTS=1 is set;
otherwise in test-artifacts/screenshots/, so that a test run leaves the committed images alone
(their dates and names change at every run).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.tour import PAGES, Tour, complete_by_http
from tests.mentoring.seeding import answer_patterns

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: Tour page → screenshot name, at 1280×800.
DESKTOP_SHOTS = {
    "learner-start": "learner-start", "questionnaire-page": "questionnaire", "results": "results",
    "plan": "plan", "cohort": "mentor-cohort", "learner": "mentor-learner",
    "statistics": "mentor-statistics", "grades": "mentor-grades", "registration": "registration",
    "comparison": "comparison",
}
#: The same on a 360 px wide phone.
PHONE_SHOTS = {"questionnaire-page": "phone-questionnaire", "results": "phone-results"}
#: Small enough to keep in git.
MAX_BYTES = 300_000
TO_THE_TOP = "() => { document.activeElement?.blur(); scrollTo({top: 0, behavior: 'instant'}) }"


def screenshot(page: Page, name: str, artifacts: Path) -> Path:
    """Photograph the viewport as docs/screenshots/<name>.png (see the module docstring)."""
    target = DOCS / f"{name}.png"
    if target.exists() and not os.environ.get("UPDATE_SCREENSHOTS"):
        target = artifacts / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    # From the top, without a focus ring (Bootstrap scrolls smoothly unless told otherwise).
    page.evaluate(TO_THE_TOP)
    page.screenshot(path=target, animations="disabled", caret="hide")
    assert target.stat().st_size < MAX_BYTES, f"{target} is {target.stat().st_size} bytes"
    return target


@pytest.fixture
def sized_page(browser, request):
    """A page in a new browser context with the viewport the test asks for (width, height)."""
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height},
                                  device_scale_factor=1)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("sized_page", [(1280, 800)], indirect=True)
def test_screenshots_of_the_main_pages(sized_page, driver, app, tool_server, screenshots_dir):
    taken = [screenshot(sized_page, DESKTOP_SHOTS[name], screenshots_dir)
             for name in Tour(app, driver, tool_server.url).every_page(sized_page)
             if name in DESKTOP_SHOTS]

    assert sorted(path.stem for path in taken) == sorted(DESKTOP_SHOTS.values())


SIDEWAYS = """() => {
  const problems = [];
  const root = document.documentElement;
  const name = el => el.tagName.toLowerCase() + "." + String(el.className).replaceAll(" ", ".");
  if (root.scrollWidth > root.clientWidth) {
    const wide = [...document.body.querySelectorAll("*")].filter(el =>
      el.getBoundingClientRect().right > root.clientWidth + 1 && !el.closest(".table-responsive"));
    problems.push(`scrolls sideways (${root.scrollWidth} px): ${wide.slice(0, 5).map(name)}`);
  }
  for (const table of document.querySelectorAll("table")) {
    if (!table.closest(".table-responsive")) problems.push(`unwrapped table: ${name(table)}`);
  }
  return problems;
}"""


def phone_problems(page: Page) -> list[str]:
    """What would make the page awkward on a phone: sideways scrolling, unwrapped tables."""
    # Measured once the style sheets have arrived: the body is parsed, and a heading already
    # visible, while they load, and unstyled a table widens the page (by 460 px on the
    # programme evaluation) instead of scrolling inside its .table-responsive box.
    page.wait_for_load_state("load")
    return page.evaluate(SIDEWAYS)


@pytest.mark.parametrize("sized_page", [(360, 740)], indirect=True)
def test_every_page_fits_a_360_pixel_phone(sized_page, driver, app, tool_server, screenshots_dir):
    problems = {}
    for name in Tour(app, driver, tool_server.url).every_page(sized_page):
        problems[name] = phone_problems(sized_page)
        if name == "questionnaire-page":
            # The 7-point scale stacks: its choices sit one under the other, full width.
            points = sized_page.locator("fieldset.item").first.locator(".scale-point")
            boxes = [points.nth(i).bounding_box() for i in range(points.count())]
            assert len({round(box["x"]) for box in boxes}) == 1, boxes
            assert sorted(box["y"] for box in boxes) == [box["y"] for box in boxes]
        if name in PHONE_SHOTS:
            screenshot(sized_page, PHONE_SHOTS[name], screenshots_dir)

    assert tuple(problems) == PAGES
    assert not {name: found for name, found in problems.items() if found}


@pytest.mark.parametrize("profile", ["moodle", "canvas"])
@pytest.mark.parametrize("sized_page", [(360, 740)], indirect=True)
def test_the_platform_course_page_fits_a_360_pixel_phone(sized_page, platform, screenshots_dir):
    learner = next(u for u in platform.users() if u["role"] == "Learner")
    sized_page.goto(platform.base_url + "/")
    assert phone_problems(sized_page) == []
    course = sized_page.locator("section.card").filter(has_text="(course id 2)")
    course.get_by_role("row").filter(
        has=sized_page.get_by_role("cell", name=learner["name"], exact=True)
    ).get_by_role("link", name="Launch as").click()
    frame = sized_page.locator("#tool_content" if platform.is_canvas else "#contentframe")
    expect(frame.content_frame.get_by_role("button", name="Start")).to_be_visible()
    assert phone_problems(sized_page) == []
    # The course index sits above the tool, which has the screen's width to itself.
    box = frame.bounding_box()
    assert box["x"] < 20 and box["width"] > 300, box
    screenshot(sized_page, f"phone-platform-{platform.profile}", screenshots_dir)


VISIBLE_OUTSIDE_REPORT = """() => {
  const report = document.querySelector(".report");
  const shown = el =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const outside = [...document.body.querySelectorAll("*")]
    .filter(el => !report.contains(el) && !el.contains(report) && shown(el));
  const chrome = [...report.querySelectorAll("button, form, nav, .no-print")].filter(shown);
  return [...outside, ...chrome].map(el => el.tagName.toLowerCase() + "." + el.className);
}"""


def test_the_printed_results_hold_the_report_alone(page, driver, tool_server):
    results = complete_by_http(driver, driver.user("Learner", 0)["id"], answer_patterns()[0][0])
    page.goto(results)
    expect(page.locator(".topbar")).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()

    page.emulate_media(media="print")

    assert page.evaluate(VISIBLE_OUTSIDE_REPORT) == []
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your Design Thinking mindset profile")
    expect(page.locator(".chart-figure svg")).to_be_visible()
    expect(page.locator("table.scores")).to_be_visible()
