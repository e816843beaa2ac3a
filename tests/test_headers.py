"""Security headers on every page, and the health checks."""

from __future__ import annotations

import re

import pytest
import requests

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


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


def _ancestors(tool_server) -> list[str]:
    csp = requests.get(tool_server.url + "/healthz").headers["Content-Security-Policy"]
    return csp.split("frame-ancestors", 1)[1].split(";")[0].split()


def test_an_origin_header_teaches_no_frame_origin(app, driver, tool_server):
    """Replaying one's own valid launch with a forged Origin header must not let that site
    frame the tool for everyone."""
    attempt = driver.authorize(driver.login(driver.user("Learner")["id"]))
    driver.post_launch(attempt, headers={"Origin": "https://attacker.example"})
    assert attempt.landed
    assert "https://attacker.example" not in _ancestors(tool_server)


def _naming(url_claim: str, url: str):
    """A mutator: the platform's signed launch names `url` in `url_claim`."""
    def mutate(claims, header):
        if url_claim == "return_url":
            claims[CLAIM + "launch_presentation"]["return_url"] = url
        else:
            claims[CLAIM + "tool_platform"]["url"] = url
    return mutate


@pytest.mark.parametrize("url_claim", ["return_url", "tool_platform_url"])
def test_the_lms_host_a_signed_launch_names_may_frame_the_tool(app, driver, tool_server,
                                                                url_claim):
    """Canvas pages live on the school's host, not the issuer's: learn it from what the
    platform signs (launch_presentation.return_url, tool_platform.url)."""
    school = "https://school.example.edu"
    attempt = driver.launch(driver.user("Learner")["id"],
                            mutate=_naming(url_claim, school + "/courses/2/external_content"))
    assert attempt.landed
    assert school in _ancestors(tool_server)
    landing = driver.open(attempt)
    assert school in landing.headers["Content-Security-Policy"].split("frame-ancestors")[1]


def test_no_number_of_launches_crowds_out_a_school_host(app, driver, tool_server):
    """The old list stopped at 20 origins, so junk could keep the real school out."""
    learner = driver.user("Learner")["id"]
    for n in range(20):
        attempt = driver.authorize(driver.login(learner))
        driver.post_launch(attempt, headers={"Origin": f"https://junk{n}.example"})
        assert attempt.landed
    for n in range(2):
        driver.launch(learner, mutate=_naming("return_url", f"https://school{n}.example.edu/c"))
    ancestors = _ancestors(tool_server)
    assert {f"https://school{n}.example.edu" for n in range(2)} <= set(ancestors)
    assert not [origin for origin in ancestors if "junk" in origin]


def test_the_registration_sites_may_frame_the_tool(app, tool_server, platform):
    """The issuer and the endpoints the operator registered: login, token and keys."""
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.identity.models import Platform

    with app.app_context():
        row = db.session.scalar(select(Platform))
        row.auth_token_url = "https://sso.example.net/login/oauth2/token"
        row.key_set_url = "https://keys.example.net/jwks"
        db.session.commit()
    app.extensions.pop("frame_origins", None)
    assert {platform.issuer, "https://sso.example.net", "https://keys.example.net"} <= set(
        _ancestors(tool_server))


def test_a_refused_launch_teaches_no_origin(app, driver, tool_server):
    from lti_tool.headers import forget_origins

    attempt = driver.authorize(driver.login(driver.user("Learner")["id"]))
    driver.post_launch(attempt, cookies={}, headers={"Origin": "https://evil.example"})
    # Not accepted: without the state cookie the tool answers with its Platform Storage page.
    assert attempt.launch_response.status_code == 200
    assert "lti-storage-launch" in attempt.launch_response.text
    with app.app_context():
        forget_origins()
    assert not [origin for origin in _ancestors(tool_server) if "evil.example" in origin]
