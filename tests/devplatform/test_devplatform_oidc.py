"""Login initiation, auth.php and the id_token, held to Moodle 4.5's observed behaviour."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from devplatform_testkit import CLIENT_ID, ISSUER, LEARNER, TEACHER, auth_request, posted_fields

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


def issued_claims(devplatform, web, response) -> tuple[dict, dict]:
    """Verify the posted id_token against certs.php; return (claims, header)."""
    action, fields = posted_fields(response)
    assert action == devplatform.tool.redirect_uris[0]
    token = fields["id_token"]
    jwks = web.get("/mod/lti/certs.php").get_json()
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=CLIENT_ID)
    return claims, header


def test_login_page_posts_the_moodle_fields_to_the_tool(devplatform, web):
    devplatform.settings["platform_storage"] = False  # Moodle 4.5 mode
    response = web.get("/mod/lti/launch.php?id=2&user=4")

    action, fields = posted_fields(response)
    assert action == "http://127.0.0.1:5000/lti/login"
    assert set(fields) == {"iss", "target_link_uri", "login_hint", "lti_message_hint",
                           "client_id", "lti_deployment_id"}
    assert fields["iss"] == ISSUER and fields["login_hint"] == LEARNER
    assert fields["client_id"] == CLIENT_ID and fields["lti_deployment_id"] == "1"
    hint = json.loads(fields["lti_message_hint"])
    assert hint["cmid"] == 2 and hint["launchid"].startswith("ltilaunch1_")
    html = response.get_data(as_text=True)
    assert '<script src="/static/autosubmit.js" defer></script>' in html
    assert "<script>" not in html and "<noscript>" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_login_page_refuses_a_user_not_in_the_course(web):
    assert web.get("/mod/lti/launch.php?id=2&user=999").status_code == 403
    assert web.get("/mod/lti/launch.php?id=77&user=4").status_code == 404


def test_auth_issues_a_moodle_shaped_id_token_that_expires_in_60_seconds(devplatform, web):
    response = auth_request(devplatform, web)

    assert response.status_code == 200
    action, fields = posted_fields(response)
    assert set(fields) == {"id_token", "state"} and fields["state"] == "state-123"
    claims, header = issued_claims(devplatform, web, response)
    assert header["alg"] == "RS256" and header["kid"] == devplatform.key.kid
    assert claims["exp"] - claims["iat"] == 60
    assert abs(claims["iat"] - time.time()) < 5
    assert claims["aud"] == CLIENT_ID  # a plain string, as Moodle sends
    assert claims["iss"] == ISSUER and claims["sub"] == LEARNER
    assert claims["nonce"] == "nonce-123"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "message_type"] == "LtiResourceLinkRequest"
    assert claims[LTI + "deployment_id"] == "1"
    assert claims[LTI + "target_link_uri"] == "http://127.0.0.1:5000/lti/launch"
    assert claims[LTI + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    assert claims[LTI + "context"] == {"id": "2", "label": "DMD101",
                                       "title": "Design Mindset DMD101", "type": ["CourseSection"]}
    assert claims[LTI + "resource_link"]["id"] == "1"
    presentation = claims[LTI + "launch_presentation"]
    assert presentation["document_target"] == "iframe" and presentation["locale"] == "en"
    assert presentation["return_url"].startswith(f"{ISSUER}/mod/lti/return.php?course=2")
    assert claims[LTI + "tool_platform"]["product_family_code"] == "moodle"
    assert claims[AGS] == {
        "scope": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        ],
        "lineitems": f"{ISSUER}/mod/lti/services.php/2/lineitems?type_id=1",
        "lineitem": f"{ISSUER}/mod/lti/services.php/2/lineitems/2/lineitem?type_id=1",
    }
    memberships = f"{ISSUER}/mod/lti/services.php/CourseSection/2/bindings/1/memberships"
    assert claims[NRPS] == {"context_memberships_url": memberships,
                            "service_versions": ["1.0", "2.0"]}
    assert claims[LTI + "custom"] == {"context_memberships_url": memberships}
    learner = next(u for u in devplatform.users() if u["id"] == LEARNER)
    assert (claims["name"], claims["given_name"], claims["family_name"], claims["email"]) == (
        learner["name"], learner["given_name"], learner["family_name"], learner["email"])


def test_instructor_gets_the_instructor_role_uri(devplatform, web):
    claims, _ = issued_claims(devplatform, web, auth_request(devplatform, web, TEACHER))
    assert claims[LTI + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
    assert claims["name"] == "Terry Teacher" and claims["email"] == "teacher1@example.com"


def test_auth_accepts_get_as_well_as_post(devplatform, web):
    response = auth_request(devplatform, web, method="get")
    assert "id_token" in posted_fields(response)[1]


def test_absent_prompt_is_accepted(devplatform, web):
    response = auth_request(devplatform, web, prompt=None)
    assert "id_token" in posted_fields(response)[1]


def test_wrong_redirect_uri_gets_the_platforms_own_error_page(devplatform, web):
    response = auth_request(devplatform, web, redirect_uri="http://127.0.0.1:5000/lti/launch/")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is not one of the tool&#39;s registered redirection URIs" in html
    assert "id_token" not in html and "<form" not in html  # nothing goes to the tool


def test_a_launch_id_works_once(devplatform, web):
    _, fields = devplatform.initiate_login_form(LEARNER)
    params = {**_auth_params(devplatform), "login_hint": fields["login_hint"],
              "lti_message_hint": fields["lti_message_hint"]}

    first = web.post("/mod/lti/auth.php", data=params)
    second = web.post("/mod/lti/auth.php", data=params)

    assert "id_token" in posted_fields(first)[1]
    assert second.status_code == 400
    assert "already used" in second.get_data(as_text=True)


@pytest.mark.parametrize("missing", ["nonce", "lti_message_hint", "login_hint", "redirect_uri",
                                     "client_id", "scope", "response_type"])
def test_missing_parameters_get_the_error_page(devplatform, web, missing):
    response = auth_request(devplatform, web, **{missing: None})
    assert response.status_code == 400
    assert "<form" not in response.get_data(as_text=True)


@pytest.mark.parametrize("change", [{"scope": "openid profile"}, {"response_type": "code"}])
def test_wrong_scope_or_response_type_gets_the_error_page(devplatform, web, change):
    assert auth_request(devplatform, web, **change).status_code == 400


def test_an_altered_message_hint_is_refused(devplatform, web):
    _, fields = devplatform.initiate_login_form(LEARNER)
    hint = json.loads(fields["lti_message_hint"])
    response = auth_request(devplatform, web, lti_message_hint=json.dumps(hint))  # spaces added
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_mode": "query"}, "invalid_request"),
        ({"response_mode": None}, "invalid_request"),
        ({"prompt": "login"}, "invalid_request"),
        ({"client_id": "someone-else"}, "unauthorized_client"),
        ({"login_hint": "5"}, "access_denied"),
    ],
)
def test_errors_after_the_redirect_uri_is_trusted_go_back_to_the_tool(devplatform, web, change,
                                                                      error):
    response = auth_request(devplatform, web, **change)

    action, fields = posted_fields(response)
    assert action == devplatform.tool.redirect_uris[0]
    assert fields["error"] == error and fields["state"] == "state-123"
    assert "id_token" not in fields


def test_privacy_switches_withhold_name_and_email(devplatform, web):
    devplatform.settings.update(share_name=False, share_email=False)
    claims, _ = issued_claims(devplatform, web, auth_request(devplatform, web))
    for claim in ("name", "given_name", "family_name", "email"):
        assert claim not in claims
    assert "user_username" not in claims[LTI + "ext"]


def test_nrps_switch_removes_the_claim(devplatform, web):
    devplatform.settings["nrps_enabled"] = False
    claims, _ = issued_claims(devplatform, web, auth_request(devplatform, web))
    assert NRPS not in claims and LTI + "custom" not in claims


def test_grade_sync_only_offers_no_lineitem_scope(devplatform, web):
    devplatform.settings["ags_mode"] = "grade_sync"
    claims, _ = issued_claims(devplatform, web, auth_request(devplatform, web))
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem" not in claims[AGS]["scope"]
    devplatform.settings["ags_mode"] = "off"
    claims, _ = issued_claims(devplatform, web, auth_request(devplatform, web))
    assert AGS not in claims


def test_lineitem_claim_only_when_the_activity_has_exactly_one(devplatform, web):
    with devplatform.store.write() as conn:
        conn.execute("INSERT INTO line_items (course_id, resource_link_id, label, score_maximum)"
                     " VALUES ('2', 1, 'Second column', 10)")
    claims, _ = issued_claims(devplatform, web, auth_request(devplatform, web))
    assert "lineitem" not in claims[AGS] and "lineitems" in claims[AGS]


def test_build_launch_claims_matches_what_auth_issues(devplatform, web):
    issued, _ = issued_claims(devplatform, web, auth_request(devplatform, web))
    built = devplatform.build_launch_claims(LEARNER, nonce="nonce-123")

    volatile = {"iat", "exp", LTI + "launch_presentation"}
    assert {k: v for k, v in built.items() if k not in volatile} == {
        k: v for k, v in issued.items() if k not in volatile}


def test_sign_jwt_lets_tests_forge_headers(devplatform):
    claims = devplatform.build_launch_claims(LEARNER, nonce="n")
    assert jwt.get_unverified_header(devplatform.sign_jwt(claims))["kid"] == devplatform.key.kid
    assert "kid" not in jwt.get_unverified_header(devplatform.sign_jwt(claims, headers={}))
    forged = devplatform.sign_jwt(claims, headers={"kid": "wrong"})
    assert jwt.get_unverified_header(forged)["kid"] == "wrong"
    # A lying alg header keeps the RS256 signature; "none" leaves the signature empty.
    hs256 = devplatform.sign_jwt(claims, headers={"kid": devplatform.key.kid, "alg": "HS256"})
    assert jwt.get_unverified_header(hs256)["alg"] == "HS256"
    unsigned = devplatform.sign_jwt(claims, headers={"alg": "none"})
    assert unsigned.endswith(".") and jwt.decode(unsigned, options={"verify_signature": False})


def test_deep_linking_launch_is_for_instructors_only(devplatform, web):
    assert web.get("/mod/lti/launch.php?course=2&user=4&kind=deeplink").status_code == 403
    response = web.get("/mod/lti/launch.php?course=2&user=3&kind=deeplink")
    _, fields = posted_fields(response)
    assert json.loads(fields["lti_message_hint"]).keys() == {"launchid"}
    assert fields["target_link_uri"] == devplatform.tool.deep_link_url


def _auth_params(devplatform) -> dict:
    from devplatform_testkit import AUTH_PARAMS

    return {**AUTH_PARAMS, "redirect_uri": devplatform.tool.redirect_uris[0]}
