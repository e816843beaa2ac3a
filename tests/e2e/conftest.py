"""Fixtures for the end-to-end tests: Debian's Chromium driven by Playwright.

One browser per session, a fresh context (cookies, storage) per test. There is no network but
loopback, so the flags keep Chromium from reaching out for updates, sync and the like.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

# Assertions wait as long as actions do: on a loaded 2-core machine a frame can take more
# than the default 5 s to settle, and a slow pass is not a failure.
expect.set_options(timeout=15_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def playwright_session():
    """Playwright, started once (it cannot run twice at the same time in one thread)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the end-to-end tests drive Debian's Chromium. "
            "Install it with `apt-get install chromium` (CI installs it).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_session):
    """Debian's Chromium, headless; the tests fail (not skip) when it is missing."""
    browser = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    """A page in a new browser context: no cookies left over from another test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    """test-artifacts/screenshots/ (git-ignored), created if need be."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --- browser setups for launches without third-party cookies --------------------------------

#: Chrome's own third-party cookie phase-out mode (3PCD), as in the 1% of Chrome users who
#: got it in 2024: unpartitioned third-party cookies are blocked.
THIRD_PARTY_COOKIE_PHASEOUT = "--test-third-party-cookie-phaseout"


@dataclass(frozen=True)
class BrowserSetup:
    """How the browser treats the tool's cookies in the platform's frame, and what the
    platform offers instead."""

    name: str
    cookies_blocked: bool
    platform_storage: bool
    #: The LMS the platform plays: Canvas always offers storage, through its forwarding frame.
    profile: str = "moodle"

    @property
    def needs_new_window(self) -> bool:
        """Neither the cookie nor Platform Storage: the tool can only offer a new window."""
        return self.cookies_blocked and not self.platform_storage


BROWSER_SETUPS = (
    # Chromium as Playwright starts it: unpartitioned third-party cookies are already blocked
    # in its contexts, and the tool's partitioned (CHIPS) state cookie comes back. The
    # platform is Moodle-like, so this differs from "blocked" in the cookies only.
    BrowserSetup("default", cookies_blocked=False, platform_storage=False),
    # Every cookie of the tool refused inside the platform's pages (Safari-like), Moodle-like
    # platform: the answer is "Open in a new window".
    BrowserSetup("blocked", cookies_blocked=True, platform_storage=False),
    # The same browser, Canvas-like platform offering Platform Storage.
    BrowserSetup("blocked-storage", cookies_blocked=True, platform_storage=True),
    # The same browser in the Canvas profile: the state goes through Canvas's
    # post_message_forwarding frame on its OIDC host, answered by the course page.
    BrowserSetup("blocked-canvas", cookies_blocked=True, platform_storage=True,
                 profile="canvas"),
)


def cookie_blocking_preferences(tool_origin: str, platform_origin: str) -> dict:
    """Chromium profile preferences that keep the tool's cookies out of the platform's pages.

    "Block third-party cookies" (cookie_controls_mode 1) and the phase-out flag block
    unpartitioned cookies only: Chromium 156 still keeps partitioned (CHIPS) cookies under
    both, by design, and the tool's state cookie is partitioned. What Safari does (no
    third-party cookies at all) takes a cookie content-settings rule in the profile: the
    tool's origin (primary pattern) blocked whenever the top-level site is the platform
    (secondary pattern). As a top-level page (a new window) the tool keeps its cookies.
    """
    return {
        "profile": {
            "cookie_controls_mode": 1,
            "content_settings": {
                "exceptions": {
                    "cookies": {f"{tool_origin},{platform_origin}": {"setting": 2}},
                },
            },
        },
    }


@dataclass
class OpenBrowser:
    """A browser context in one setup, with the URLs of every request it made."""

    setup: BrowserSetup
    context: object
    page: object
    requests: list[tuple[str, str]]

    def tool_cookies(self, tool_url: str) -> list[dict]:
        """The cookies the browser keeps for the tool's /lti/ paths, partitioned ones too."""
        return self.context.cookies(tool_url + "/lti/")

    def posted(self, url: str) -> bool:
        """Whether the browser posted to this URL."""
        return ("POST", url) in self.requests


@pytest.fixture(params=BROWSER_SETUPS, ids=lambda setup: setup.name)
def browser_setup(request, playwright_session, browser, app, platform, tool_server, tmp_path):
    """A fresh browser context in each setup; the platform switched to match (its console's
    profile switch, and the tool told of the Canvas registration)."""
    from tests.conftest import register

    setup: BrowserSetup = request.param
    platform.settings["platform_storage"] = setup.platform_storage
    if setup.profile != platform.profile:
        platform.settings["profile"] = setup.profile
        register(app, platform)
    top_site = platform.canvas_hosts.school if platform.is_canvas else platform.base_url
    options = {"viewport": {"width": 1280, "height": 900}}
    if setup.cookies_blocked:
        profile = tmp_path / "chromium-profile"
        (profile / "Default").mkdir(parents=True)
        preferences = cookie_blocking_preferences(tool_server.url, top_site)
        (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
        # Preferences belong to a profile on disk, hence a persistent context.
        context = playwright_session.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_ARGS, THIRD_PARTY_COOKIE_PHASEOUT], **options,
        )
    else:
        context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    seen: list[tuple[str, str]] = []
    context.on("request", lambda r: seen.append((r.method, r.url.split("?")[0])))
    page = context.pages[0] if context.pages else context.new_page()
    yield OpenBrowser(setup, context, page, seen)
    context.close()
