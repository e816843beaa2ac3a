"""Security headers on every page, and the health checks."""

from __future__ import annotations

import re

import pytest
import requests


def _get_rules(app):
    """Every GET URL of the tool; converters filled with a plausible id."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        urls.append(url)
    return sorted(set(urls))


@pytest.fixture
def tokens(driver):
    learner = driver.launch(driver.user("Learner")["id"]).token
    mentor = driver.launch(driver.user("Instructor")["id"]).token
    return {"learner": learner, "mentor": mentor}


def test_every_page_has_the_security_headers(app, tool_server, platform, tokens):
    urls = _get_rules(app)
    assert len(urls) >= 5
    for who, token in tokens.items():
        for url in urls:
            response = requests.get(tool_server.url + url, params={"lt": token},
                                    allow_redirects=False)
            headers = response.headers
            assert response.status_code < 500, (who, url, response.status_code)
            csp = headers.get("Content-Security-Policy", "")
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, (who, url)
            assert f"frame-ancestors 'self' {platform.issuer}" in csp or (
                platform.issuer in csp.split("frame-ancestors", 1)[1]
            ), (who, url, csp)
            assert headers.get("X-Content-Type-Options") == "nosniff", url
            assert headers.get("Referrer-Policy") == "same-origin", url
            assert "X-Frame-Options" not in headers, url
            # Plain http here: no HSTS (it would be wrong to send it over http).
            assert "Strict-Transport-Security" not in headers, url


def test_frame_ancestors_lists_only_registered_platforms(tool_server, platform):
    csp = requests.get(tool_server.url + "/lti/jwks").headers["Content-Security-Policy"]
    ancestors = csp.split("frame-ancestors", 1)[1].split(";")[0].split()
    assert ancestors[0] == "'self'"
    assert set(ancestors[1:]) == {platform.issuer}


def test_hsts_and_https_urls_behind_a_tls_proxy(app, monkeypatch):
    from lti_tool import create_app

    proxied = create_app({**{k: app.config[k] for k in (
        "SECRET_KEY", "TOOL_URL", "SQLALCHEMY_DATABASE_URI", "KEYS_DIR")},
        "ENV": "test", "TRUSTED_PROXIES": 1})
    client = proxied.test_client()
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https",
                                                "X-Forwarded-For": "203.0.113.9"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in plain.headers  # proxy headers not trusted


def test_health_checks(tool_server):
    assert requests.get(tool_server.url + "/healthz").json() == {"status": "ok"}
    ready = requests.get(tool_server.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_readyz_reports_an_unreachable_database(app):
    from lti_tool import create_app

    broken = create_app({**{k: app.config[k] for k in ("SECRET_KEY", "TOOL_URL", "KEYS_DIR")},
                         "ENV": "test",
                         "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_the_page_that_sent_a_launch_may_frame_the_tool(app, driver, tool_server):
    """Canvas pages live on the school's host, not the issuer's: learn it from launches."""
    from lti_tool.headers import forget_origins

    attempt = driver.authorize(driver.login(driver.user("Learner")["id"]))
    driver.post_launch(attempt, headers={"Origin": "https://school.example.edu"})
    assert attempt.landed
    with app.app_context():
        forget_origins()
    csp = requests.get(tool_server.url + "/healthz").headers["Content-Security-Policy"]
    assert "https://school.example.edu" in csp.split("frame-ancestors", 1)[1]


def test_a_refused_launch_teaches_no_origin(app, driver, tool_server):
    from lti_tool.headers import forget_origins

    attempt = driver.authorize(driver.login(driver.user("Learner")["id"]))
    driver.post_launch(attempt, cookies={}, headers={"Origin": "https://evil.example"})
    # Not accepted: without the state cookie the tool answers with its Platform Storage page.
    assert attempt.launch_response.status_code == 200
    assert "lti-storage-launch" in attempt.launch_response.text
    with app.app_context():
        forget_origins()
    csp = requests.get(tool_server.url + "/healthz").headers["Content-Security-Policy"]
    assert "evil.example" not in csp
