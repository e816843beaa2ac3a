"""In Chromium, inside the platform's cross-site iframe: answers given are saved at once
(the page's script), so a reload — or closing the tab — loses none of them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_console_launch import _launch_as, _user

pytestmark = pytest.mark.e2e


def test_answers_survive_a_reload(page, platform, tool_server):
    learner = _user(platform, "Learner")
    _launch_as(page, platform, learner["name"])
    content = page.frame_locator("#contentframe")
    content.get_by_role("button", name="Start").click()
    fieldsets = content.locator("fieldset.item")
    expect(fieldsets.first).to_be_visible()
    chosen = {}
    for index, value in ((0, "2"), (1, "6"), (3, "4")):
        fieldset = fieldsets.nth(index)
        item_id = fieldset.get_attribute("data-item-id")
        fieldset.locator(f"input[type=radio][value='{value}']").check()
        chosen[item_id] = value
        expect(content.locator("[data-save-status]")).to_contain_text("Saved")

    # Reload the tool's page inside the iframe, as a browser refresh of the frame does.
    frame = page.locator("#contentframe").element_handle().content_frame()
    assert frame.url.startswith(tool_server.url + "/"), frame.url
    frame.goto(frame.url)
    for item_id, value in chosen.items():
        radio = content.locator(f"#q-{item_id} input[type=radio][value='{value}']")
        expect(radio).to_be_checked()
    unanswered = fieldsets.nth(2).locator("input[type=radio]:checked")
    expect(unanswered).to_have_count(0)

    # A new launch (the tab closed and reopened from the course) resumes with them too.
    _launch_as(page, platform, learner["name"])
    content.get_by_role("link", name="Resume").click()
    for item_id, value in chosen.items():
        expect(content.locator(f"#q-{item_id} input[type=radio][value='{value}']")).to_be_checked()


def test_the_submit_errors_heading_shows_below_the_sticky_progress_bar(page, platform):
    learner = _user(platform, "Learner")
    _launch_as(page, platform, learner["name"])
    content = page.frame_locator("#contentframe")
    content.get_by_role("button", name="Start").click()
    expect(content.locator("fieldset.item").first).to_be_visible()
    # Straight to the last page, saying so at each page left unanswered. Each step waits for
    # the next page's number: the page being left has a note and no Submit button too.
    number = 1
    while content.get_by_role("button", name="Submit").count() == 0:
        content.get_by_role("button", name="Next").click()
        number += 1
        expect(content.locator(".progress-text")).to_contain_text(f"Page {number} of")
        expect(content.locator(".skipped-note")).to_contain_text(f"page {number - 1}")
    # On a phone, submit with nothing answered.
    page.set_viewport_size({"width": 360, "height": 640})
    content.get_by_role("button", name="Submit").click()

    heading = content.locator(".missing-summary h2")
    expect(heading).to_be_visible()
    expect(content.locator(".missing-summary")).to_be_focused()
    # The page scrolls smoothly to the focused message: wait for it to come to rest clear
    # of the bar (a timeout here means it rests under the bar).
    frame = page.locator("#contentframe").element_handle().content_frame()
    frame.wait_for_function("""() => {
        const heading = document.querySelector('.missing-summary h2').getBoundingClientRect();
        const bar = document.querySelector('.progress-block').getBoundingClientRect();
        return heading.top >= bar.bottom - 1;
    }""", timeout=15_000)


def test_an_answer_given_before_the_script_arrives_is_saved(page, platform, tool_server):
    """On a slow connection the learner may answer before the page's script has run: that
    answer is saved as soon as the script starts, not only when the page is sent."""
    held = []
    page.route("**/static/js/questionnaire.js*", lambda route: held.append(route))
    learner = _user(platform, "Learner")
    _launch_as(page, platform, learner["name"])
    content = page.frame_locator("#contentframe")
    content.get_by_role("button", name="Start").click()
    fieldset = content.locator("fieldset.item").first
    expect(fieldset).to_be_visible()
    item_id = fieldset.get_attribute("data-item-id")
    fieldset.locator("input[type=radio][value='5']").check()
    expect(content.locator("[data-save-status]")).to_have_text("")
    assert held, "the page asked for its script"
    for route in held:
        route.continue_()
    page.unroute("**/static/js/questionnaire.js*")
    expect(content.locator("[data-save-status]")).to_contain_text("Saved")

    frame = page.locator("#contentframe").element_handle().content_frame()
    frame.goto(frame.url)
    expect(content.locator(f"#q-{item_id} input[type=radio][value='5']")).to_be_checked()
