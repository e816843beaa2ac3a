"""After the launch: the token-carried session, roles on pages, JWKS."""

from __future__ import annotations

from urllib.parse import urljoin

import requests


def test_pages_need_a_launch_token(tool_server):
    response = requests.get(tool_server.url + "/questionnaire/")
    assert response.status_code == 401
    assert "open the activity again" in response.text.lower()


def test_forged_token_is_refused(tool_server, driver):
    attempt = driver.launch(driver.user("Learner")["id"])
    forged = attempt.token[:-4] + ("AAAA" if not attempt.token.endswith("AAAA") else "BBBB")
    response = requests.get(tool_server.url + "/questionnaire/", params={"lt": forged})
    assert response.status_code == 401


def test_learner_never_reaches_mentor_pages(tool_server, driver):
    attempt = driver.launch(driver.user("Learner")["id"])
    response = requests.get(tool_server.url + "/mentor/", params={"lt": attempt.token})
    assert response.status_code == 403


def test_mentor_token_does_not_open_learner_pages(tool_server, driver):
    attempt = driver.launch(driver.user("Instructor")["id"])
    response = requests.get(tool_server.url + "/questionnaire/", params={"lt": attempt.token})
    assert response.status_code == 403


def test_pages_work_without_any_cookie(driver):
    attempt = driver.launch(driver.user("Learner")["id"])
    response = requests.get(urljoin(driver.tool_url, attempt.landing_url))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_token_is_kept_from_other_sites(driver):
    attempt = driver.launch(driver.user("Learner")["id"])
    response = driver.open(attempt)
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_expires(app, tool_server, driver):
    from lti_tool.extensions import db
    from lti_tool.identity.models import utcnow
    from lti_tool.lti.models import LaunchSession

    attempt = driver.launch(driver.user("Learner")["id"])
    with app.app_context():
        for row in db.session.query(LaunchSession):
            row.expires_dt = utcnow()
        db.session.commit()
    response = requests.get(tool_server.url + "/questionnaire/", params={"lt": attempt.token})
    assert response.status_code == 401


def test_jwks_publishes_the_signing_key(tool_server, app):
    from lti_tool.lti import keys

    for path in ("/lti/jwks", "/.well-known/jwks.json"):
        body = requests.get(tool_server.url + path).json()
        assert len(body["keys"]) == 1
        key = body["keys"][0]
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert key["kid"] and "d" not in key
    with app.app_context():
        kid, _ = keys.signing_key()
    assert body["keys"][0]["kid"] == kid


def test_a_url_pattern_builds_what_launch_url_for_builds(app):
    """A page's links built from one URL are the links launch_url_for would have built."""
    from types import SimpleNamespace

    from flask import g

    from lti_tool.lti.session import launch_url_for, launch_url_pattern

    ids = [1, 7, 42, 123456789, 987654321, 98765432100]
    with app.test_request_context("/mentor/"):
        g.launch = SimpleNamespace(link_token="link.token-with-987654321", token="page")
        cases = [("mentoring.learner_page", "person_id", {}),
                 ("mentoring.learner_attempt", "person_id", {"attempt_id": 5}),
                 ("mentoring.learner_attempt", "attempt_id", {"person_id": 987654321}),
                 ("goals.learner_plan", "person_id", {"view": "all"})]
        for endpoint, key, values in cases:
            link = launch_url_pattern(endpoint, key, **values)
            assert [link(i) for i in ids] == [
                launch_url_for(endpoint, **values, **{key: i}) for i in ids], endpoint
