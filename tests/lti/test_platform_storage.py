"""Launching without third-party cookies: LTI Platform Storage, and the new window.

Over HTTP the test plays the part of the tool's own page: it reads what the page would send
to the platform and posts what the page would post. The browser side (postMessage, cookies
really blocked) is in tests/e2e/test_third_party_cookies.py.
"""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.identity.models import Person
from lti_tool.lti.models import LaunchSession
from tests.launch_driver import (
    LaunchAttempt,
    landed,
    landing_url_of,
    launch_refusals,
    parse_form,
    storage_page_data,
)

FRAMED = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _nobody(app) -> bool:
    return _count(app, Person) == 0 and _count(app, LaunchSession) == 0


@pytest.fixture
def learner(driver):
    return driver.user("Learner")["id"]


def _storage_launch(driver, learner):
    """A launch whose state cookie did not come back: the tool's Platform Storage page."""
    attempt = driver.authorize(driver.login(learner))
    driver.post_launch(attempt, cookies={})
    return attempt


def _post_proof(tool_server, attempt, *, origin: str | None, value: str | None = None):
    """What the storage page posts after lti.get_data answered `value`."""
    action, fields = parse_form(attempt.launch_response.text)
    fields["lti_storage_value"] = attempt.state if value is None else value
    headers = {} if origin is None else {"Origin": origin}
    return requests.post(tool_server.url + action, data=fields, headers=headers,
                         allow_redirects=False)


# --- login ---------------------------------------------------------------------------------

def test_login_offered_platform_storage_answers_with_the_storage_page(
    driver, platform, learner, tool_server
):
    attempt = driver.login(learner)
    response = attempt.login_response

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = storage_page_data(response.text)
    assert data["step"] == "login"
    assert data["storage-target"] == "_parent"
    # postMessages go to, and answers must come from, the platform's auth endpoint origin.
    assert data["platform-origin"] == platform.issuer
    assert data["auth-url"].startswith(platform.auth_login_url + "?")
    state = parse_qs(urlsplit(data["auth-url"]).query)["state"][0]
    assert data["state"] == state
    assert data["cookie-check-url"] == f"/lti/login/cookie?state={state}"
    # The partitioned cookie is set anyway: it is the other path.
    cookie = response.headers["Set-Cookie"]
    assert f"dmd-lti-{state}={state}" in cookie and "Partitioned" in cookie
    # No inline script under the CSP: the page's script is a file.
    assert '<script src="/static/js/platform_storage.js" defer></script>' in response.text
    assert "<script>" not in response.text
    # Without script, the way on is still there.
    assert "<noscript>" in response.text and "Continue" in response.text


def test_login_in_a_frame_checks_the_cookie_first_even_without_storage(
    driver, platform, learner
):
    """Moodle's launch id is single-use: a new window must be offered before auth.php."""
    platform.settings["platform_storage"] = False
    url, fields = platform.initiate_login_form(learner)
    response = requests.post(url, data=fields, headers=FRAMED, allow_redirects=False)

    assert response.status_code == 200
    data = storage_page_data(response.text)
    assert data["storage-target"] == ""
    new_window = parse_form_link(response.text)
    assert new_window.startswith(url + "?")
    query = parse_qs(urlsplit(new_window).query)
    assert query["lti1p3_new_window"] == ["1"]
    for name in ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id",
                 "lti_deployment_id"):
        assert query[name] == [fields[name]]


def test_the_new_window_login_goes_straight_on_and_launches(driver, platform, learner):
    """In a window of its own the tool's cookie is first-party: 302, then a normal launch."""
    url, fields = platform.initiate_login_form(learner)
    framed = requests.post(url, data=fields, headers=FRAMED, allow_redirects=False)
    new_window = parse_form_link(framed.text)

    # The link opens with GET, in a top-level window: no Sec-Fetch-Dest: iframe.
    response = requests.get(new_window, headers={"Sec-Fetch-Dest": "document"},
                            allow_redirects=False)
    assert response.status_code == 302
    attempt = LaunchAttempt(login_response=response,
                            cookies={c.name: c.value for c in response.cookies})
    driver.authorize(attempt)
    driver.post_launch(attempt)
    assert attempt.landed
    assert "/questionnaire/" in attempt.landing_url


def test_a_top_level_login_without_storage_still_redirects(driver, platform, learner):
    platform.settings["platform_storage"] = False
    url, fields = platform.initiate_login_form(learner)
    response = requests.post(url, data=fields, headers={"Sec-Fetch-Dest": "document"},
                             allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(platform.auth_login_url)


def test_the_page_that_sent_the_login_may_frame_the_login_page(
    driver, platform, learner, tool_server
):
    """Canvas pages live on the school's host, learned only from a valid launch: the login
    page must show inside it before that, and the tool must not remember it from a login."""
    url, fields = platform.initiate_login_form(learner)
    response = requests.post(url, data=fields, headers={"Origin": "https://school.example"},
                             allow_redirects=False)
    ancestors = response.headers["Content-Security-Policy"].split("frame-ancestors")[1]
    assert "https://school.example" in ancestors.split(";")[0].split()
    assert platform.issuer in ancestors
    later = requests.get(tool_server.url + "/lti/jwks").headers["Content-Security-Policy"]
    assert "school.example" not in later


def test_cookie_check_says_whether_the_state_cookie_came_back(driver, learner, tool_server):
    attempt = driver.login(learner)
    check = tool_server.url + storage_page_data(attempt.login_response.text)["cookie-check-url"]

    assert requests.get(check, cookies=attempt.cookies).json() == {"cookie": True}
    assert requests.get(check).json() == {"cookie": False}
    assert requests.get(check).headers["Cache-Control"] == "no-store"


# --- launch --------------------------------------------------------------------------------

def test_with_the_cookie_the_launch_needs_no_storage(app, driver, learner):
    attempt = driver.launch(learner)
    assert attempt.landed


def test_without_the_cookie_the_state_is_read_back_from_platform_storage(
    app, driver, platform, learner, tool_server
):
    attempt = _storage_launch(driver, learner)
    response = attempt.launch_response

    assert response.status_code == 200
    data = storage_page_data(response.text)
    assert data == {"step": "launch", "state": attempt.state,
                    "platform-origin": platform.issuer, "storage-target": "_parent"}
    action, fields = parse_form(response.text)
    assert action == "/lti/launch/storage"
    assert fields == {"id_token": attempt.id_token, "state": attempt.state,
                      "lti_storage_value": ""}
    assert _nobody(app)

    accepted = _post_proof(tool_server, attempt, origin=tool_server.url)
    assert landed(accepted), accepted.text[:2000]
    assert "/questionnaire/" in landing_url_of(accepted)
    assert _count(app, Person) == 1 and _count(app, LaunchSession) == 1


def test_a_storage_launch_learns_the_school_host_from_the_signed_launch_only(
    driver, learner, tool_server
):
    """Canvas's course page lives on the school's host: the landing page after a Platform
    Storage launch must be framable there at once, learnt from the return_url the platform
    signed, never from the Origin header of the post or a field of the form."""
    school = "http://school.localhost:5999"
    attempt = driver.authorize(driver.login(learner))
    id_token = driver.forge(attempt.id_token, lambda claims, header: claims[
        "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"].update(
        return_url=school + "/courses/2/external_content/success/external_tool_redirect"))
    driver.post_launch(attempt, id_token=id_token, cookies={},
                       headers={"Origin": "https://attacker.example"})
    _, fields = parse_form(attempt.launch_response.text)
    assert "attacker" not in str(fields)

    accepted = requests.post(
        tool_server.url + "/lti/launch/storage",
        data={**fields, "lti_storage_value": attempt.state,
              "launch_origin": "https://attacker.example"},
        headers={"Origin": tool_server.url}, allow_redirects=False)
    landing = requests.get(tool_server.url + landing_url_of(accepted))
    assert landing.status_code == 200
    ancestors = landing.headers["Content-Security-Policy"].split("frame-ancestors")[1]
    assert school in ancestors and "attacker" not in ancestors


@pytest.mark.parametrize("origin", ["https://evil.example", "null", None])
def test_storage_endpoint_refuses_a_post_from_another_origin(
    app, driver, learner, tool_server, origin, caplog
):
    """Login CSRF: a page elsewhere cannot post an attacker's launch with the proof."""
    attempt = _storage_launch(driver, learner)

    refused = _post_proof(tool_server, attempt, origin=origin)
    assert refused.status_code == 403
    assert ("This launch was not sent by the tool's own page. Open the activity again from "
            "the course page.") in unescape(refused.text)
    assert _nobody(app)
    assert launch_refusals(caplog) == [
        f"launch refused (403): platform storage proof from Origin {origin!r}"]


def test_storage_endpoint_refuses_a_value_other_than_the_state_and_spends_the_state(
    app, driver, learner, tool_server, caplog
):
    attempt = _storage_launch(driver, learner)

    wrong = _post_proof(tool_server, attempt, origin=tool_server.url, value="state-of-another")
    assert wrong.status_code == 403
    assert ("The value read back from the platform's storage does not match this launch. "
            "Open the activity again from the course page.") in unescape(wrong.text)
    # One attempt per login: the right value afterwards finds no state.
    late = _post_proof(tool_server, attempt, origin=tool_server.url)
    assert late.status_code == 400 and "expired or was already used" in late.text
    assert _nobody(app)
    assert launch_refusals(caplog) == [
        "launch refused (403): platform storage value differs from state",
        f"launch refused (400): unknown, expired or replayed state {attempt.state[:16]}..."]


def test_storage_endpoint_refuses_a_replay(app, driver, learner, tool_server):
    attempt = _storage_launch(driver, learner)
    assert landed(_post_proof(tool_server, attempt, origin=tool_server.url))

    replay = _post_proof(tool_server, attempt, origin=tool_server.url)
    assert replay.status_code == 400
    assert "expired or was already used" in replay.text
    assert _count(app, LaunchSession) == 1


def test_storage_endpoint_refuses_a_login_that_offered_no_storage(
    app, driver, platform, learner, tool_server, caplog
):
    platform.settings["platform_storage"] = False
    attempt = driver.authorize(driver.login(learner))
    response = requests.post(
        tool_server.url + "/lti/launch/storage",
        data={"id_token": attempt.id_token, "state": attempt.state,
              "lti_storage_value": attempt.state},
        headers={"Origin": tool_server.url}, allow_redirects=False,
    )
    assert response.status_code == 403
    assert ("This launch did not begin with the platform's storage. Open the activity again "
            "from the course page.") in unescape(response.text)
    assert _nobody(app)
    assert launch_refusals(caplog) == [
        "launch refused (403): platform storage proof for a login without storage target"]


def test_without_cookie_or_storage_the_launch_offers_a_new_window(
    app, driver, platform, learner, tool_server
):
    """200: the page is the protocol's answer (a way on), not an error; nothing is accepted."""
    platform.settings["platform_storage"] = False
    attempt = driver.authorize(driver.login(learner))
    response = driver.post_launch(attempt, cookies={})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Open in a new window" in response.text
    link = parse_form_link(response.text)
    assert link.startswith(tool_server.url + "/lti/login?")
    assert parse_qs(urlsplit(link).query)["lti1p3_new_window"] == ["1"]
    assert _nobody(app)
    # The state is spent: the same launch, now with its cookie, is refused.
    late = driver.post_launch(attempt)
    assert late.status_code == 400 and "expired or was already used" in late.text
    assert _nobody(app)


def parse_form_link(html: str) -> str:
    """The href of the page's "Open in a new window" link (it opens with target=_blank)."""
    from html.parser import HTMLParser

    class Links(HTMLParser):
        href: str | None = None

        def handle_starttag(self, tag, attrs):
            values = dict(attrs)
            if values.get("id") == "new-window-link":
                assert values.get("target") == "_blank"
                self.href = values.get("href")

    parser = Links()
    parser.feed(html)
    assert parser.href, html[:2000]
    return parser.href
