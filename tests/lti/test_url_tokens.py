"""A launch token in a URL (links, the landing redirect) works for minutes, not the four
hours of the launch session: an address copied from a log, a history or a shoulder is of
little use. The live page renews its token and keeps working; a form or a fetch call
carries the token in its body or a header, which never lands in a log."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import itsdangerous
import pytest
import requests

HEADER = "X-Launch-Token"


@pytest.fixture
def clock(monkeypatch):
    """Move the tokens' clock: `clock(minutes)` makes every token that much older."""
    real = itsdangerous.TimestampSigner.get_timestamp

    def move(minutes: float) -> None:
        monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp",
                            lambda self: real(self) + int(minutes * 60))
    return move


def _token_in(url: str) -> str:
    return parse_qs(urlsplit(url).query)["lt"][0]


def _page_token(html: str) -> str:
    """The token the page renews from (its <meta name="launch-token">)."""
    return re.search(r'<meta name="launch-token" content="([^"]+)"', html).group(1)


def test_a_link_older_than_ten_minutes_is_refused_but_the_renewed_one_works(
    app, driver, tool_server, clock
):
    attempt = driver.launch(driver.user("Learner")["id"])
    landing = urljoin(tool_server.url, attempt.landing_url)
    first = requests.get(landing)
    assert first.status_code == 200
    live_token = _page_token(first.text)

    clock(9)
    assert requests.get(landing).status_code == 200

    clock(11)
    expired = requests.get(landing)
    assert expired.status_code == 401
    assert "This link has expired" in expired.text
    assert "Open the activity again from your course" in expired.text
    polish = requests.get(landing, headers={"Accept-Language": "pl-PL,pl;q=0.9"})
    assert polish.status_code == 401 and "Ten link wygasł" in polish.text

    # The page itself keeps going: its fetch calls carry the token in a header ...
    bare = landing.split("?")[0]
    assert requests.get(bare, headers={HEADER: live_token}).status_code == 200
    # ... it renews its token with that header, and the renewed link works.
    renewed = requests.post(tool_server.url + "/lti/session/renew", headers={HEADER: live_token})
    assert renewed.status_code == 200
    fresh = renewed.json()["token"]
    assert fresh != attempt.token
    assert renewed.json()["url_seconds"] == 600
    assert requests.get(bare, params={"lt": fresh}).status_code == 200


def test_a_form_posted_long_after_the_page_was_shown_still_works(driver, tool_server, clock):
    attempt = driver.launch(driver.user("Learner")["id"])
    page = driver.open(attempt)
    form_token = re.search(r'name="lt" value="([^"]+)"', page.text).group(1)
    clock(90)
    begun = requests.post(tool_server.url + "/questionnaire/begin", data={"lt": form_token},
                          allow_redirects=False)
    assert begun.status_code in (302, 303), begun.text[:500]
    # The address it sends the browser to carries a fresh token that works.
    assert requests.get(urljoin(tool_server.url, begun.headers["Location"])).status_code == 200


def test_the_launch_session_still_ends_after_four_hours(driver, tool_server, clock):
    attempt = driver.launch(driver.user("Learner")["id"])
    page_token = _page_token(driver.open(attempt).text)
    clock(4 * 60 + 1)
    bare = urljoin(tool_server.url, attempt.landing_url).split("?")[0]
    ended = requests.get(bare, headers={HEADER: page_token})
    assert ended.status_code == 401 and "Please open the activity again" in ended.text
    renewed = requests.post(tool_server.url + "/lti/session/renew", headers={HEADER: page_token})
    assert renewed.status_code == 401


def test_a_token_taken_from_an_address_is_no_longer_than_ten_minutes_anywhere(
    driver, tool_server, clock
):
    """Moving a logged or copied URL token into a header or a form body does not extend it."""
    attempt = driver.launch(driver.user("Learner")["id"])
    clock(11)
    bare = urljoin(tool_server.url, attempt.landing_url).split("?")[0]
    in_header = requests.get(bare, headers={HEADER: attempt.token})
    assert in_header.status_code == 401 and "This link has expired" in in_header.text
    in_form = requests.post(tool_server.url + "/questionnaire/begin",
                            data={"lt": attempt.token}, allow_redirects=False)
    assert in_form.status_code == 401


def test_a_page_token_is_refused_in_an_address(driver, tool_server):
    """The long-lived token of a page's body never works as a link, even fresh."""
    attempt = driver.launch(driver.user("Learner")["id"])
    page_token = _page_token(driver.open(attempt).text)
    bare = urljoin(tool_server.url, attempt.landing_url).split("?")[0]
    refused = requests.get(bare, params={"lt": page_token})
    assert refused.status_code == 401 and "This link has expired" in refused.text


@pytest.mark.parametrize("how", ["none", "forged", "link_token", "in_url"])
def test_renewing_needs_the_token_in_a_header(driver, tool_server, how):
    attempt = driver.launch(driver.user("Learner")["id"])
    url = tool_server.url + "/lti/session/renew"
    response = {
        "none": lambda: requests.post(url),
        "forged": lambda: requests.post(url, headers={HEADER: attempt.token[:-2] + "xx"}),
        # A link token, even a fresh one, cannot be renewed: whoever copied it would keep
        # the session open for hours.
        "link_token": lambda: requests.post(url, headers={HEADER: attempt.token}),
        # A URL token (from a log) cannot be turned into a fresh one.
        "in_url": lambda: requests.post(url, params={"lt": attempt.token}),
    }[how]()
    assert response.status_code == 401
    assert "token" not in response.json()


def test_pages_carry_the_renewal_script_and_fresh_tokens(driver, tool_server, clock):
    attempt = driver.launch(driver.user("Learner")["id"])
    clock(3)
    page = driver.open(attempt)
    assert page.status_code == 200
    assert "js/launch_token.js" in page.text
    page_token = _page_token(page.text)
    # Links on the page were signed now, not when the launch happened, and are link tokens.
    link = re.search(r'href="(/plan/[^"]*lt=[^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert _token_in(link) not in (page_token, attempt.token)
    clock(3 + 9)
    assert requests.get(urljoin(tool_server.url, link)).status_code == 200
