"""OIDC login initiation, as Moodle (form POST) and other platforms (GET) send it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.launch_driver import alert_text


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
    assert alert_text(response) == (
        f"The platform's login request lacks {', '.join(missing)}. Open the tool from a course "
        "page in your LMS rather than by its address.")


def _login_refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "lti_tool.lti.views" and r.getMessage().startswith("login refused")]


@pytest.mark.parametrize("with_client_id", [True, False])
def test_unknown_issuer_is_named(driver, platform, caplog, with_client_id):
    caplog.set_level("WARNING", logger="lti_tool.lti.views")
    url, fields = platform.initiate_login_form(driver.user("Learner")["id"])
    fields["iss"] = "https://unknown-moodle.example"
    if not with_client_id:
        fields.pop("client_id", None)
    client_id = fields.get("client_id")
    response = requests.post(url, data=fields, allow_redirects=False)
    assert response.status_code == 400
    which = (f"issuer https://unknown-moodle.example with client id {client_id}" if client_id
             else "issuer https://unknown-moodle.example")
    assert alert_text(response) == (
        f"This tool has no registration for {which}. An administrator can add it with "
        "`flask platforms add` or by Dynamic Registration.")
    assert _login_refusals(caplog) == [
        "login refused (400): unknown platform iss='https://unknown-moodle.example' "
        f"client_id={client_id!r}"]


def test_target_link_uri_outside_the_tool_is_refused(driver, platform, tool_server):
    url, fields = platform.initiate_login_form(driver.user("Learner")["id"])
    fields["target_link_uri"] = "https://phishing.example/lti/launch"
    response = requests.post(url, data=fields, allow_redirects=False)
    assert response.status_code == 400
    assert alert_text(response) == (
        "The login asks for https://phishing.example/lti/launch, which is not a page of this "
        f"tool ({tool_server.url}). Check the Tool URL in the platform's registration.")


def test_full_launch_through_the_platform_works(driver):
    attempt = driver.launch(driver.user("Learner")["id"])
    assert attempt.landed
