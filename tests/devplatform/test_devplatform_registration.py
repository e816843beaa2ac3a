"""Dynamic Registration on the development platform, as strict as Moodle 4.5's."""

from __future__ import annotations

import copy
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from devplatform_testkit import platform_settings

from lti_tool.devplatform import create_platform_app
from lti_tool.devplatform.keys import PlatformKey

TOOL = "http://127.0.0.1:5000"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
MEMBERSHIP = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

CLIENT_REGISTRATION = {
    "application_type": "web",
    "response_types": ["id_token"],
    "grant_types": ["implicit", "client_credentials"],
    "initiate_login_uri": TOOL + "/lti/login",
    "redirect_uris": [TOOL + "/lti/launch"],
    "client_name": "Design Mindset Detector",
    "jwks_uri": TOOL + "/lti/jwks",
    "logo_uri": TOOL + "/static/img/logo.svg",
    "token_endpoint_auth_method": "private_key_jwt",
    "scope": f"{LINEITEM} {SCORE} {MEMBERSHIP} https://example.com/scope/admin",
    TOOL_CONFIGURATION: {
        "domain": "127.0.0.1:5000",
        "target_link_uri": TOOL + "/lti/launch",
        "claims": ["iss", "sub", "name", "email"],
        "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": TOOL + "/lti/pick",
                      "label": "Add"}],
    },
}


def token_from(url: str) -> str:
    return parse_qs(urlsplit(url).query)["registration_token"][0]


def register(web, token: str, body: dict | None = None):
    return web.post("/mod/lti/openid-registration.php", json=body or CLIENT_REGISTRATION,
                    headers={"Authorization": f"Bearer {token}"})


def test_start_url_carries_the_configuration_and_a_one_hour_token(devplatform):
    url = devplatform.start_dynamic_registration(TOOL + "/lti/register?invite=abc")
    assert url.startswith(TOOL + "/lti/register?invite=abc&openid_configuration=")
    query = parse_qs(urlsplit(url).query)
    assert query["openid_configuration"] == [devplatform.openid_configuration_url]
    claims = jwt.decode(query["registration_token"][0], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600 and claims["scope"] == "reg"
    plain = devplatform.start_dynamic_registration(TOOL + "/lti/register")
    assert plain.startswith(TOOL + "/lti/register?openid_configuration=")


def test_openid_configuration_is_moodles_and_needs_the_token_at_moodles_path(web, devplatform):
    assert web.get("/mod/lti/openid-configuration.php").status_code == 401
    token = token_from(devplatform.start_dynamic_registration(TOOL + "/r"))
    config = web.get("/mod/lti/openid-configuration.php",
                     headers={"Authorization": f"Bearer {token}"}).get_json()
    assert config == web.get("/.well-known/openid-configuration").get_json()
    assert config["issuer"] == devplatform.issuer
    assert config["authorization_endpoint"] == devplatform.auth_login_url
    assert config["token_endpoint"] == devplatform.auth_token_url
    assert config["jwks_uri"] == devplatform.key_set_url
    assert config["registration_endpoint"] == devplatform.registration_endpoint
    lti = config["https://purl.imsglobal.org/spec/lti-platform-configuration"]
    assert lti["product_family_code"] == "moodle"


def test_registration_answers_a_client_id_and_deployment_and_launches_the_new_tool(
    web, devplatform, tmp_path, fake_tool
):
    token = token_from(devplatform.start_dynamic_registration(TOOL + "/r"))
    answer = register(web, token)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert len(body["client_id"]) == 15
    assert body[TOOL_CONFIGURATION]["deployment_id"] == "2"
    assert body["scope"].split() == [LINEITEM, SCORE, MEMBERSHIP]  # unknown scope dropped
    assert devplatform.client_id == body["client_id"] and devplatform.deployment_id == "2"
    assert devplatform.tool.deep_link_url == TOOL + "/lti/pick"
    login_url, fields = devplatform.initiate_login_form("4")
    assert login_url == TOOL + "/lti/login"
    assert fields["client_id"] == body["client_id"] and fields["lti_deployment_id"] == "2"
    assert "type_id=2" in devplatform.lineitems_url("2")
    # Moodle derives services and privacy from the request: no given/family name claims
    # asked for, but "name" is; all of AGS; NRPS.
    assert devplatform.settings["ags_mode"] == "full"
    assert devplatform.settings["nrps_enabled"] and devplatform.settings["share_email"]
    # The registration survives a restart of the platform.
    again = create_platform_app(platform_settings(tmp_path, fake_tool)).extensions["devplatform"]
    assert again.client_id == body["client_id"] and again.deployment_id == "2"


def test_a_registration_token_is_usable_once(web, devplatform):
    token = token_from(devplatform.start_dynamic_registration(TOOL + "/r"))
    assert register(web, token).status_code == 200
    second = register(web, token)
    assert second.status_code == 401
    assert "already used" in second.get_json()["error_description"]


def test_each_start_makes_a_new_token(web, devplatform):
    for deployment in ("2", "3"):
        token = token_from(devplatform.start_dynamic_registration(TOOL + "/r"))
        assert register(web, token).get_json()[TOOL_CONFIGURATION]["deployment_id"] == deployment


def broken(change):
    body = copy.deepcopy(CLIENT_REGISTRATION)
    change(body)
    return body


@pytest.mark.parametrize(
    "body, words",
    [
        (broken(lambda b: b.update(response_types=["code"])), "id_token"),
        (broken(lambda b: b.update(token_endpoint_auth_method="client_secret_basic")),
         "private_key_jwt"),
        (broken(lambda b: b.update(redirect_uris=TOOL + "/lti/launch")), "array"),
        (broken(lambda b: b.update(grant_types=["implicit"])), "client_credentials"),
        (broken(lambda b: b.pop("jwks_uri")), "jwks_uri"),
        (broken(lambda b: b[TOOL_CONFIGURATION].update(domain="127.0.0.1")), "host[:port]"),
        (broken(lambda b: b.pop(TOOL_CONFIGURATION)), "lti-tool-configuration"),
    ],
)
def test_registrations_moodle_would_refuse_are_refused(web, devplatform, body, words):
    token = token_from(devplatform.start_dynamic_registration(TOOL + "/r"))
    answer = register(web, token, body)
    assert answer.status_code == 400
    assert words in answer.get_json()["error_description"]
    assert devplatform.client_id == "dmd-devplatform"
    # A refused request does not use the token up: the corrected one registers.
    assert register(web, token).status_code == 200


def test_tokens_that_are_missing_forged_or_expired_are_refused(web, devplatform, tmp_path):
    assert web.post("/mod/lti/openid-registration.php",
                    json=CLIENT_REGISTRATION).status_code == 401
    other = PlatformKey.load_or_create(tmp_path)
    now = int(time.time())
    claims = {"iss": devplatform.issuer, "aud": devplatform.issuer, "scope": "reg",
              "iat": now, "exp": now + 3600, "jti": "made-up"}
    assert register(web, other.sign(claims)).status_code == 401
    assert register(web, devplatform.sign_jwt(claims)).status_code == 401  # not issued here
    expired = {**claims, "iat": now - 7200, "exp": now - 3600}
    assert register(web, devplatform.sign_jwt(expired)).status_code == 401


def test_a_json_body_is_required(web, devplatform):
    token = token_from(devplatform.start_dynamic_registration(TOOL + "/r"))
    answer = web.post("/mod/lti/openid-registration.php", data="x=1",
                      headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400


def test_console_offers_dynamic_registration_in_a_frame(web, devplatform):
    console = web.get("/").get_data(as_text=True)
    assert "Register a tool dynamically" in console
    assert 'action="/mod/lti/startltiadvregistration.php"' in console
    assert 'value="http://127.0.0.1:5000/lti/register"' in console
    page = web.get("/mod/lti/startltiadvregistration.php",
                   query_string={"url": TOOL + "/lti/register?invite=abc"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="contentframe"' in html and "openid_configuration=" in html
    assert 'data-tool-origin="http://127.0.0.1:5000"' in html
    assert 'src="/static/registration.js"' in html and "<script>" not in html
    assert web.get("/static/registration.js").status_code == 200
    assert web.get("/mod/lti/startltiadvregistration.php",
                   query_string={"url": "javascript:alert(1)"}).status_code == 400


def test_rotate_key_publishes_both_and_signs_with_the_new(web, devplatform, platform_app,
                                                          tmp_path):
    old = devplatform.key.kid
    new = devplatform.rotate_key()
    assert new != old
    kids = [key["kid"] for key in web.get("/mod/lti/certs.php").get_json()["keys"]]
    assert kids == [new, old]
    token = devplatform.sign_jwt({"x": 1})
    assert jwt.get_unverified_header(token)["kid"] == new
    # The new key is the one kept on disk, with the same private mode.
    reloaded = PlatformKey.load_or_create(tmp_path / "devplatform")
    assert reloaded.kid == new
    assert (tmp_path / "devplatform" / "platform_private_key.pem").stat().st_mode & 0o777 == 0o600
