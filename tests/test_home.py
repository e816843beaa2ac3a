"""The tool's root address: what the tool is, and where to go (what `make run` prints last)."""

from __future__ import annotations

import re

import pytest


def test_the_root_explains_the_tool_and_links_to_the_registration_page(client):
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "An LTI 1.3 tool for Moodle and Canvas" in text
    assert 'href="/lti/config"' in text
    # Outside development there is no development platform to point at.
    assert "Open the development platform" not in text


def test_in_development_the_root_links_to_the_development_platform(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "development")
    monkeypatch.setitem(app.config, "DEV_PLATFORM_URL", "http://localhost:5101")
    text = client.get("/").get_data(as_text=True)
    assert re.search(r'<a [^>]*href="http://localhost:5101"[^>]*>Open the development platform',
                     text)
    assert 'href="/lti/config"' in text


@pytest.mark.parametrize("path", ["/", "/lti/config", "/privacy"])
def test_pages_name_the_tools_icon_and_the_browsers_default_address_finds_it(client, path):
    page = client.get(path).get_data(as_text=True)
    assert '<link rel="icon" href="/static/img/logo.svg" type="image/svg+xml">' in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon.headers["Location"].endswith("/static/img/logo.svg")
    assert client.get("/static/img/logo.svg").mimetype == "image/svg+xml"
