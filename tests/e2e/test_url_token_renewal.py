"""The page renews its launch token in the browser: after the address's token has expired,
the links and forms of a page left open still work, in every cookie setup (in the
platform's frame with cookies kept, with cookies blocked through Platform Storage, and in
the new window)."""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

import itsdangerous
import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.test_third_party_cookies import _open_activity, _user

pytestmark = pytest.mark.e2e


def _token(href: str) -> str:
    return parse_qs(urlsplit(href).query)["lt"][0]


def test_a_page_left_open_renews_its_links(browser_setup, platform, tool_server, monkeypatch):
    context = browser_setup.page.context
    context.clock.install()
    where = _open_activity(browser_setup, platform, tool_server.url, _user(platform, "Learner"))
    plan_link = where.get_by_role("link", name="My development plan")
    expect(plan_link).to_be_visible()
    first = plan_link.get_attribute("href")

    # Eleven minutes pass for the server's tokens, six for the page's timers: the page
    # renews its token with the header and rewrites its links and forms.
    real = itsdangerous.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp",
                        lambda self: real(self) + 11 * 60)
    context.clock.fast_forward("06:00")
    expect(plan_link).not_to_have_attribute("href", first)
    renewed = plan_link.get_attribute("href")
    assert _token(renewed) != _token(first)

    # The old address is refused; following the renewed link works.
    old = requests.get(urljoin(tool_server.url, first))
    assert old.status_code == 401 and "This link has expired" in old.text
    plan_link.click()
    expect(where.get_by_role("heading", level=1)).to_be_visible()
    expect(where.locator("body")).not_to_contain_text("This link has expired")
    expect(where.locator("body")).not_to_contain_text("Please open the activity again")
