"""token.php: form-encoded client credentials with a kid-bearing JWT assertion, as Moodle 4.5."""

from __future__ import annotations

import time

import pytest

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
MEMBERSHIP = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def token_request(web, devplatform, fake_tool, *, scope=f"{SCORE} {MEMBERSHIP}", headers=None,
                  **overrides):
    assertion = fake_tool.client_assertion(devplatform.auth_token_url, headers=headers,
                                           **overrides)
    form = {"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion, "scope": scope}
    return web.post("/mod/lti/token.php", data=form)


def test_grants_the_requested_scopes_that_are_permitted(web, devplatform, fake_tool):
    response = token_request(web, devplatform, fake_tool,
                             scope=f"{SCORE} {MEMBERSHIP} https://example.com/scope/admin")

    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"].split() == [SCORE, MEMBERSHIP]
    assert response.headers["Cache-Control"] == "no-store"
    # The token works on a service that needs one of its scopes.
    memberships = devplatform.memberships_url("2").removeprefix(devplatform.issuer)
    answer = web.get(memberships, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert answer.status_code == 200


def test_json_bodies_are_refused(web, devplatform, fake_tool):
    assertion = fake_tool.client_assertion(devplatform.auth_token_url)
    response = web.post("/mod/lti/token.php", json={
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion, "scope": SCORE})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_an_assertion_without_kid_is_refused(web, devplatform, fake_tool):
    response = token_request(web, devplatform, fake_tool, headers={})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert "kid" in response.get_json()["error_description"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "someone-else"},
        {"iss": "someone-else"},
        {"aud": "http://localhost:5001/mod/lti/auth.php"},
        {"exp": int(time.time()) - 5},
        {"jti": None},
        {"iat": None},
    ],
    ids=["sub", "iss", "aud", "expired", "no-jti", "no-iat"],
)
def test_bad_assertions_are_invalid_client(web, devplatform, fake_tool, overrides):
    response = token_request(web, devplatform, fake_tool, **overrides)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_audience_may_be_a_list_holding_the_token_url(web, devplatform, fake_tool):
    response = token_request(web, devplatform, fake_tool,
                             aud=["https://elsewhere.example", devplatform.auth_token_url])
    assert response.status_code == 200


def test_a_wrong_kid_or_a_foreign_key_is_refused(web, devplatform, fake_tool):
    assert token_request(web, devplatform, fake_tool, headers={"kid": "nope"}).status_code == 401


def test_a_jti_works_once(web, devplatform, fake_tool):
    assert token_request(web, devplatform, fake_tool, jti="same").status_code == 200
    second = token_request(web, devplatform, fake_tool, jti="same")
    assert second.status_code == 401 and "jti" in second.get_json()["error_description"]


def test_an_unknown_kid_triggers_one_refetch_of_the_tool_jwks(web, devplatform, fake_tool):
    assert token_request(web, devplatform, fake_tool).status_code == 200
    fetches = fake_tool.jwks_fetches
    fake_tool.rotate()
    assert token_request(web, devplatform, fake_tool).status_code == 200
    assert fake_tool.jwks_fetches == fetches + 1


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [("grant_type", "password", "unsupported_grant_type"),
     ("client_assertion_type", "urn:other", "unsupported_grant_type"),
     ("scope", "", "invalid_request")],
)
def test_request_shape_errors(web, devplatform, fake_tool, field, value, error):
    form = {"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
            "client_assertion": fake_tool.client_assertion(devplatform.auth_token_url),
            "scope": SCORE, field: value}
    response = web.post("/mod/lti/token.php", data=form)
    assert response.status_code == 400 and response.get_json()["error"] == error


def test_nothing_permitted_is_invalid_scope(web, devplatform, fake_tool):
    devplatform.settings["nrps_enabled"] = False
    response = token_request(web, devplatform, fake_tool, scope=MEMBERSHIP)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_grade_sync_only_withholds_the_lineitem_scope(web, devplatform, fake_tool):
    devplatform.settings["ags_mode"] = "grade_sync"
    response = token_request(web, devplatform, fake_tool, scope=f"{LINEITEM} {SCORE}")
    assert response.get_json()["scope"] == SCORE
