"""Accessibility in Chromium: axe-core on every page of the tool, and the questionnaire taken
with the keyboard alone.

axe-core (tests/e2e/vendor/axe.min.js) is evaluated in each page, not added as a script tag,
so the tool's Content Security Policy stays in force: a page that breaks it (an inline style
or script) fails here too. Every violation is printed; serious and critical ones fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect

from tests.e2e.tour import INSTRUMENT, PAGES, Tour

pytestmark = pytest.mark.e2e

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
FAILING_IMPACTS = ("serious", "critical")
COURSE_ID = "2"

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" "))
  }));
}"""


def axe_violations(target: Page | Frame) -> list[dict]:
    """Run axe-core in the page or frame as it is now; its violations."""
    if not target.evaluate("() => typeof window.axe !== 'undefined'"):
        target.evaluate(AXE)
    return target.evaluate(RUN_AXE)


def report(results: dict[str, list[dict]]) -> list[str]:
    """Print every violation, page by page; the serious and critical ones as lines."""
    failing = []
    for name, violations in results.items():
        print(f"{name}: {len(violations)} violation(s)")
        for violation in violations:
            line = (f"  {violation['impact']:<9} {violation['id']}: {violation['help']} "
                    f"-> {', '.join(violation['targets'])}")
            print(line)
            if violation["impact"] in FAILING_IMPACTS:
                failing.append(f"{name}{line}")
    return failing


def watch_policy(page: Page) -> list[str]:
    """Collect the Content Security Policy violations the browser reports in the console."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    return refused


def test_every_page_has_no_serious_or_critical_violations(page, driver, app, tool_server):
    refused = watch_policy(page)
    tour = Tour(app, driver, tool_server.url)
    results = {name: axe_violations(page) for name in tour.every_page(page)}

    assert tuple(results) == PAGES
    failing = report(results)
    assert not failing, "serious or critical accessibility violations:\n" + "\n".join(failing)
    assert not refused, refused


def _launch_in_frame(page: Page, platform, role: str) -> Frame:
    """Launch from the platform's console as the course's first user with this role."""
    user = next(u for u in platform.users(COURSE_ID) if u["role"] == role)
    page.goto(platform.base_url + "/")
    course = page.locator("section.card").filter(has_text=f"(course id {COURSE_ID})")
    row = course.get_by_role("row").filter(
        has=page.get_by_role("cell", name=user["name"], exact=True))
    row.get_by_role("link", name="Launch as").click()
    selector = "#tool_content" if platform.is_canvas else "#contentframe"
    content = page.frame_locator(selector)
    expect(content.locator("header .who")).to_contain_text(user["name"])
    frame = page.locator(selector).element_handle().content_frame()
    assert frame is not None
    return frame


@pytest.mark.parametrize("profile", ["moodle", "canvas"])
def test_the_pages_in_the_platform_frame_have_no_serious_or_critical_violations(
    page, platform, tool_server
):
    refused = watch_policy(page)
    results = {}
    frame = _launch_in_frame(page, platform, "Learner")
    results["framed learner-start"] = axe_violations(frame)
    frame.get_by_role("button", name="Start").click()
    expect(frame.locator("fieldset.item").first).to_be_visible()
    results["framed questionnaire-page"] = axe_violations(frame)
    frame = _launch_in_frame(page, platform, "Instructor")
    expect(frame.get_by_role("table")).to_be_visible()
    results["framed cohort"] = axe_violations(frame)
    page.goto(tool_server.url + "/")
    results["root"] = axe_violations(page)

    failing = report(results)
    assert not failing, "serious or critical accessibility violations:\n" + "\n".join(failing)
    assert not refused, refused


# --- the keyboard alone ---------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), type: el.type || "", name: el.name || "",
          value: el.value || "", text: (el.innerText || "").trim(), id: el.id,
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
          shadow: style.boxShadow !== "none"};
}"""


def focused(page: Page) -> dict | None:
    """What has the keyboard focus now, and whether it shows a focus indicator."""
    return page.evaluate(FOCUSED)


def tab_to(page: Page, matches, *, key: str = "Tab", limit: int = 40) -> dict:
    """Press Tab (or another key) until the focused element matches; that element."""
    for _ in range(limit):
        page.keyboard.press(key)
        element = focused(page)
        if element and matches(element):
            return element
    raise AssertionError(f"{limit} presses of {key} never reached the element; at {focused(page)}")


def choose(page: Page, field: str, value: int) -> None:
    """With focus on the first radio of a group, choose a value with Space and the arrows."""
    page.keyboard.press("Space")
    for _ in range(value - 1):
        page.keyboard.press("ArrowRight")
    chosen = focused(page)
    assert chosen["name"] == field and chosen["value"] == str(value), chosen
    assert chosen["outline"] or chosen["shadow"], f"no visible focus on {chosen}"


def button(text: str):
    """Matches the focused button with this text."""
    return lambda el: el["tag"] == "button" and el["text"] == text


def test_a_learner_completes_the_questionnaire_with_the_keyboard_alone(page, driver, tool_server):
    learner = driver.user("Learner", 0)
    attempt = driver.launch(learner["id"])
    page.goto(tool_server.url + attempt.landing_url)
    start = tab_to(page, button("Start"))
    assert start["outline"] or start["shadow"], f"no visible focus on {start}"
    page.keyboard.press("Enter")

    pages = INSTRUMENT.pages()
    skipped = pages[-1][-1]  # left out at first, to go back to from the summary of the missing
    for number, items in enumerate(pages):
        expect(page.get_by_text(f"Page {number + 1} of {len(pages)}")).to_be_visible()
        for index, item in enumerate(items):
            field = f"item-{item.id}"
            if item is skipped:
                continue
            tab_to(page, lambda el, field=field: el["name"] == field)
            choose(page, field, item.attention_check_expected or 5)
            if number == 0 and index == 1:
                # Back to the statement before with Shift+Tab, and change its answer.
                previous = f"item-{items[0].id}"
                tab_to(page, lambda el, previous=previous: el["name"] == previous,
                       key="Shift+Tab")
                page.keyboard.press("ArrowLeft")
                assert focused(page)["value"] == "4"
                tab_to(page, lambda el, field=field: el["name"] == field)
        last = number == len(pages) - 1
        tab_to(page, button("Submit" if last else "Next"))
        page.keyboard.press("Enter")

    # One statement unanswered: the summary takes the focus and links to it.
    summary = page.locator("#missing-summary")
    expect(summary).to_be_focused()
    link = tab_to(page, lambda el: el["tag"] == "a")
    assert link["outline"] or link["shadow"], f"no visible focus on {link}"
    page.keyboard.press("Enter")
    field = f"item-{skipped.id}"
    tab_to(page, lambda el: el["name"] == field, limit=3)
    choose(page, field, 5)
    tab_to(page, button("Submit"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your Design Thinking mindset profile")
    expect(page.locator("[data-overall]")).to_be_visible()
