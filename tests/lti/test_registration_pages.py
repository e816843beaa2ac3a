"""What an LMS administrator reads: Canvas's JSON configuration and the registration page."""

from __future__ import annotations

import re

import requests

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def test_canvas_json_has_the_required_fields_and_placements(client, tool_server):
    response = client.get("/lti/canvas.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    config = response.get_json()
    base = tool_server.url
    assert config["title"] and config["description"]
    assert config["oidc_initiation_url"] == base + "/lti/login"
    assert config["target_link_uri"] == base + "/lti/launch"
    assert config["public_jwk_url"] == base + "/lti/jwks"
    assert set(config["scopes"]) == {AGS + "lineitem", AGS + "lineitem.readonly",
                                     AGS + "result.readonly", AGS + "score", NRPS}
    assert isinstance(config["custom_fields"], dict)
    [canvas] = config["extensions"]
    assert canvas["platform"] == "canvas.instructure.com"
    assert canvas["privacy_level"] == "name_only"
    assert canvas["domain"] == base.removeprefix("http://")
    placements = {p["placement"]: p for p in canvas["settings"]["placements"]}
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    assert placements["assignment_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["link_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert all(p["target_link_uri"] == base + "/lti/launch" for p in placements.values())


def test_canvas_json_urls_answer(tool_server):
    config = requests.get(tool_server.url + "/lti/canvas.json", timeout=10).json()
    keys = requests.get(config["public_jwk_url"], timeout=10).json()
    assert keys["keys"] and all(k["kid"] for k in keys["keys"])
    icon = config["extensions"][0]["settings"]["icon_url"]
    assert requests.get(icon, timeout=10).headers["Content-Type"].startswith("image/svg")


def test_registration_page_lists_every_url_and_step(client, tool_server):
    page = client.get("/lti/config")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    base = tool_server.url
    for path in ("/lti/launch", "/lti/login", "/lti/jwks", "/lti/register", "/lti/canvas.json",
                 "/static/img/logo.svg"):
        assert base + path in text
    # What Moodle needs switched on.
    assert "grade sync and column management" in text
    assert "Names and Role Provisioning" in text
    assert "Share launcher's name with tool" in text and "Accept grades from the tool" in text
    # Dynamic Registration needs an invitation by default.
    assert "flask --app lti_tool platforms invite" in text
    # The exact command, with Moodle's endpoints under the Platform ID.
    assert "platforms add" in text and "&lt;Platform ID&gt;/mod/lti/auth.php" in text
    assert "--deployment &lt;Deployment ID&gt;" in text
    # Copy buttons and the command builder come from an external script; no inline script.
    assert re.findall(r"<script[^>]*>", text) == [
        '<script src="/static/js/frame_resize.js" defer>',
        '<script src="/static/js/lti_config.js" defer>']
    assert 'data-copy="redirect-uri"' in text


def test_registration_page_follows_the_registration_mode(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "open")
    text = client.get("/lti/config").get_data(as_text=True)
    assert "Any platform may register" in text and "platforms invite</code> (valid" not in text


def test_the_scripts_and_logo_are_served(client):
    for path in ("/static/js/lti_config.js", "/static/js/registration.js", "/static/img/logo.svg"):
        assert client.get(path).status_code == 200
