"""OIDC login initiation, as Moodle (form POST) and other platforms (GET) send it."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests


def _query(response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def test_post_login_redirects_to_the_platform_with_every_parameter(driver, platform, tool_server):
    platform.settings["platform_storage"] = False  # Moodle 4.5: no lti_storage_target
    url, fields = platform.initiate_login_form(driver.user("Learner")["id"])
    response = requests.post(url, data=fields, allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(platform.auth_login_url)
    query = _query(response)
    assert query["scope"] == "openid"
    assert query["response_type"] == "id_token"
    assert query["response_mode"] == "form_post"
    assert query["prompt"] == "none"
    assert query["client_id"] == platform.client_id
    assert query["redirect_uri"] == tool_server.url + "/lti/launch"
    # Echoed verbatim: Moodle's launch id inside the hint is single-use.
    assert query["login_hint"] == fields["login_hint"]
    assert query["lti_message_hint"] == fields["lti_message_hint"]
    assert query["state"] and query["nonce"]


def test_get_login_works_too(driver, platform):
    platform.settings["platform_storage"] = False
    url, fields = platform.initiate_login_form(driver.user("Learner")["id"])
    response = requests.get(url, params=fields, allow_redirects=False)
    assert response.status_code == 302


@pytest.mark.parametrize("missing", [["iss"], ["login_hint"], ["target_link_uri"],
                                     ["iss", "target_link_uri"]])
def test_missing_parameter_is_named(driver, platform, missing):
    url, fields = platform.initiate_login_form(driver.user("Learner")["id"])
    for name in missing:
        fields.pop(name)
    response = requests.post(url, data=fields, allow_redirects=False)
    assert response.status_code == 400
    alert = re.search(r'<p class="alert alert-danger" role="alert">(.*?)</p>', response.text, re.S)
    assert unescape(alert.group(1)) == (
        f"The platform's login request lacks {', '.join(missing)}. Open the tool from a course "
        "page in your LMS rather than by its address.")


def test_unknown_issuer_is_named(driver, platform):
    url, fields = platform.initiate_login_form(driver.user("Learner")["id"])
    fields["iss"] = "https://unknown-moodle.example"
    response = requests.post(url, data=fields, allow_redirects=False)
    assert response.status_code == 400
    assert "no registration for issuer https://unknown-moodle.example" in response.text


def test_target_link_uri_outside_the_tool_is_refused(driver, platform):
    url, fields = platform.initiate_login_form(driver.user("Learner")["id"])
    fields["target_link_uri"] = "https://phishing.example/lti/launch"
    response = requests.post(url, data=fields, allow_redirects=False)
    assert response.status_code == 400
    assert "not a page of this tool" in response.text


def test_full_launch_through_the_platform_works(driver):
    attempt = driver.launch(driver.user("Learner")["id"])
    assert attempt.landed
