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
