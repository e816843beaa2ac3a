"""Every item of the launch checklist: a forged launch is refused, with a plain reason.

Launches go through the development platform over HTTP; forgeries re-sign the platform's
id_token with the platform's own key after changing it, so only the changed item is wrong.
"""

from __future__ import annotations

import base64
import json
import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select, update

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, Person
from tests.launch_driver import alert_text, launch_refusals

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ANOTHER_CLIENT = "The launch was issued for another client id than the login that began it."
EXPIRED = ("This launch has expired or was already used. Open the activity again from the "
           "course page.")


def _people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


_LOG: list = []


@pytest.fixture(autouse=True)
def launch_log(caplog):
    """The tool's refusals as the operator's log shows them."""
    caplog.set_level("WARNING", logger="lti_tool.lti.views")
    _LOG[:] = [caplog]
    yield caplog
    _LOG.clear()


def refusals() -> list[str]:
    """'launch refused (400): why' lines logged so far in this test."""
    return launch_refusals(_LOG[0])


def refused(app, attempt, status: int, words: str, logged: str | None = None, *,
            part: bool = False) -> None:
    """The launch got an error page with these words, and recorded nobody; an error status
    is logged once for the operator, with the reason (`logged`, when the test knows it)."""
    response = attempt.launch_response
    assert response.status_code == status, response.text[:3000]
    if status >= 400:
        # The reason exactly as the page's alert gives it (a sentence, or its known part).
        shown = alert_text(response)
        # Whole, or (part=True) the known start or end of a reason naming an address.
        assert shown == words or (
            part and (shown.startswith(words) or shown.endswith(words))), shown
    else:
        assert words in unescape(response.text)
    assert _people(app) == 0
    if status >= 400:
        [line] = refusals()
        assert line.startswith(f"launch refused ({status}): ")
        reason = line.split(": ", 1)[1]
        assert reason and reason != "None"
        if logged is not None:
            assert logged in reason, line


def drop(name):
    return lambda claims, header: claims.pop(name, None)


def setclaim(name, value):
    return lambda claims, header: claims.__setitem__(name, value)


@pytest.fixture
def learner(driver):
    return driver.user("Learner")["id"]


# --- the certification suite's known-bad payloads -------------------------------------

def test_no_kid(app, driver, learner):
    attempt = driver.launch(learner, mutate=lambda c, h: h.pop("kid"))
    refused(app, attempt, 400, "The launch's id_token has no key id (kid) in its header.")


def test_wrong_kid(app, driver, learner, key_set_url):
    attempt = driver.launch(learner, mutate=lambda c, h: h.__setitem__("kid", "no-such-key"))
    refused(app, attempt, 400,
            f"The platform's key set at {key_set_url} has no key 'no-such-key'.",
            "unknown kid 'no-such-key'")


def test_wrong_version(app, driver, learner):
    attempt = driver.launch(learner, mutate=setclaim(CLAIM + "version", "1.2.0"))
    refused(app, attempt, 400, "The launch's LTI version is '1.2.0'; expected '1.3.0'.")


def test_no_version(app, driver, learner):
    attempt = driver.launch(learner, mutate=drop(CLAIM + "version"))
    refused(app, attempt, 400, "The launch's LTI version is None; expected '1.3.0'.")


def test_not_a_jwt(app, driver, learner):
    attempt = driver.authorize(driver.login(learner))
    driver.post_launch(attempt, id_token="this-is-not-a-jwt")
    refused(app, attempt, 400, "The launch's id_token is not a JWT.")


def _segment(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(("header", "body"), [
    ({"alg": "RS256", "kid": "k"}, ["a", "list"]),
    (["a", "list"], {"sub": "someone"}),
])
def test_a_jwt_whose_parts_are_not_objects(app, driver, learner, header, body):
    attempt = driver.authorize(driver.login(learner))
    driver.post_launch(attempt, id_token=f"{_segment(header)}.{_segment(body)}.c2ln")
    refused(app, attempt, 400, "The launch's id_token is not a JWT.")


def test_a_launch_without_id_token(app, driver, learner):
    attempt = driver.authorize(driver.login(learner))
    attempt.launch_response = requests.post(
        attempt.launch_action, data={"state": attempt.state}, cookies=attempt.cookies,
        allow_redirects=False)
    refused(app, attempt, 400, "The launch carries no id_token.")


@pytest.mark.parametrize(("claim", "reason"), [
    ("iss", "The launch comes from another issuer than the login that began it."),
    ("aud", "The launch names no audience (aud)."),
    ("nonce", "The launch lacks the required claim 'nonce'."),
    ("exp", "The launch lacks the required claim 'exp'."),
    ("iat", "The launch lacks the required claim 'iat'."),
])
def test_missing_required_claim(app, driver, learner, claim, reason):
    refused(app, driver.launch(learner, mutate=drop(claim)), 400, reason)


def test_expired(app, driver, learner):
    def expire(claims, header):
        claims["iat"] = int(time.time()) - 400
        claims["exp"] = int(time.time()) - 300

    refused(app, driver.launch(learner, mutate=expire), 400, (
        "The launch token has expired. Launch tokens live for a minute or so; open the activity "
        "again, and if this repeats, check the clocks of the LMS and tool servers."),
        "Signature has expired")


def test_issued_in_the_future(app, driver, learner):
    def future(claims, header):
        claims["iat"] = int(time.time()) + 3600
        claims["exp"] = int(time.time()) + 3660

    refused(app, driver.launch(learner, mutate=future), 400, (
        "The launch token says it was issued in the future: the clocks of the LMS and tool "
        "servers disagree."), "The token is not yet valid (iat)")


def test_issued_too_long_ago(app, driver, learner):
    def old(claims, header):
        claims["iat"] = int(time.time()) - 7200

    refused(app, driver.launch(learner, mutate=old), 400,
            "The launch token was issued too long ago.")
    [line] = refusals()
    assert line.startswith("launch refused (400): iat=")


def test_issued_ten_minutes_ago_is_still_within_the_leeway(app, driver, learner):
    """ID_TOKEN_MAX_AGE_SECONDS (600) plus the clock leeway (60): 630 s old is accepted."""
    def old(claims, header):
        claims["iat"] = int(time.time()) - app.config["ID_TOKEN_MAX_AGE_SECONDS"] - 30
        claims["exp"] = int(time.time()) + 60

    assert driver.launch(learner, mutate=old).landed


def test_a_token_issued_exactly_at_the_age_limit_is_accepted(app, driver, learner,
                                                             monkeypatch):
    """Max age plus leeway is the last accepted age: one second more is refused (above)."""
    from lti_tool.lti import validation

    now = float(int(time.time()))
    limit = app.config["ID_TOKEN_MAX_AGE_SECONDS"] + app.config["ID_TOKEN_LEEWAY_SECONDS"]

    def old(claims, header):
        claims["iat"] = int(now) - limit
        claims["exp"] = int(now) + 60

    monkeypatch.setattr(validation.time, "time", lambda: now)
    assert driver.launch(learner, mutate=old).landed


def test_a_token_expired_within_the_clock_leeway_is_accepted(app, driver, learner):
    """ID_TOKEN_LEEWAY_SECONDS (60) forgives a platform clock a little ahead of the tool's."""
    def just_expired(claims, header):
        claims["iat"] = int(time.time()) - 100
        claims["exp"] = int(time.time()) - 30

    assert driver.launch(learner, mutate=just_expired).landed


def test_a_platform_key_without_alg_is_taken_as_rs256(app, driver, learner, key_set_url):
    # "alg" is optional in a JWK (RFC 7517); an RSA key without it verifies an RS256 launch.
    from lti_tool.lti import registry

    attempt = driver.authorize(driver.login(learner))
    kid = jwt.get_unverified_header(attempt.id_token)["kid"]
    published = next(key for key in driver.platform.jwks()["keys"] if key["kid"] == kid)
    with app.app_context():
        registry.keep_key_set(key_set_url, {"keys": [
            {name: value for name, value in published.items() if name != "alg"}]}, 60)
    driver.post_launch(attempt)
    assert attempt.landed


def test_an_empty_sub_is_refused(app, driver, learner):
    refused(app, driver.launch(learner, mutate=setclaim("sub", "")), 400, (
        "The launch does not say who you are (no sub): this tool saves your answers and cannot "
        "work with anonymous launches."))


@pytest.mark.parametrize("sub", [123, ["someone"]])
def test_a_sub_that_is_not_a_string_is_refused(app, driver, learner, sub):
    # PyJWT's own check (sub must be a string) comes first.
    refused(app, driver.launch(learner, mutate=setclaim("sub", sub)), 400,
            "The launch's signature or claims are not valid.")


def test_missing_message_type(app, driver, learner):
    refused(app, driver.launch(learner, mutate=drop(CLAIM + "message_type")), 400,
            "The launch has no message_type.")


def test_unsupported_message_type(app, driver, learner):
    attempt = driver.launch(learner, mutate=setclaim(CLAIM + "message_type", "LtiStartProctoring"))
    refused(app, attempt, 400,
            "This tool does not handle 'LtiStartProctoring' messages.")


def test_missing_roles(app, driver, learner):
    refused(app, driver.launch(learner, mutate=drop(CLAIM + "roles")), 400,
            "The launch has no roles claim.")


def test_missing_deployment_id(app, driver, learner):
    refused(app, driver.launch(learner, mutate=drop(CLAIM + "deployment_id")), 400,
            "The launch has no deployment_id.")


def test_deployment_id_too_long(app, driver, learner):
    attempt = driver.launch(learner, mutate=setclaim(CLAIM + "deployment_id", "x" * 256))
    refused(app, attempt, 400, "The launch's deployment_id is longer than 255 characters.")


def test_deployment_id_of_255_characters_is_checked_against_the_registration(
    app, driver, learner
):
    attempt = driver.launch(learner, mutate=setclaim(CLAIM + "deployment_id", "x" * 255))
    refused(app, attempt, 403, f"Deployment {'x' * 255} is not registered", part=True)


@pytest.mark.parametrize("value", [7, ["1"], ""])
def test_deployment_id_that_is_not_a_string(app, driver, learner, value):
    attempt = driver.launch(learner, mutate=setclaim(CLAIM + "deployment_id", value))
    refused(app, attempt, 400, "The launch has no deployment_id.")


def test_unknown_deployment_names_issuer_and_command(app, driver, learner, platform):
    attempt = driver.launch(learner, mutate=setclaim(CLAIM + "deployment_id", "7"))
    issuer, client_id = platform.issuer, platform.client_id
    refused(app, attempt, 403,
            f"Deployment 7 is not registered for issuer {issuer} (client id {client_id}). "
            f"An administrator can allow it with: flask platforms add-deployment "
            f"--issuer '{issuer}' --client-id '{client_id}' --deployment '7'",
            "unknown deployment '7'")


def test_missing_resource_link_id(app, driver, learner):
    attempt = driver.launch(learner, mutate=setclaim(CLAIM + "resource_link", {"title": "x"}))
    refused(app, attempt, 400, "The launch has no resource_link id.")


def test_missing_sub(app, driver, learner):
    refused(app, driver.launch(learner, mutate=drop("sub")), 400, (
        "The launch does not say who you are (no sub): this tool saves your answers and cannot "
        "work with anonymous launches."))


# --- the rest of the checklist ---------------------------------------------------------

@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_alg_other_than_rs256(app, driver, learner, alg):
    attempt = driver.authorize(driver.login(learner))
    claims = jwt.decode(attempt.id_token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(attempt.id_token)["kid"]
    if alg == "none":
        token = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    else:
        # The classic attack: HMAC keyed with the platform's public key set.
        token = jwt.encode(claims, "a-secret-that-is-long-enough-for-hs256!!", algorithm="HS256",
                           headers={"kid": kid})
    driver.post_launch(attempt, id_token=token)
    refused(app, attempt, 400, f"The launch is signed with '{alg}'; LTI 1.3 requires RS256.")


def test_signature_by_another_key(app, driver, learner):
    attempt = driver.authorize(driver.login(learner))
    claims = jwt.decode(attempt.id_token, options={"verify_signature": False})
    header = jwt.get_unverified_header(attempt.id_token)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    driver.post_launch(attempt, id_token=jwt.encode(claims, other, "RS256", headers=header))
    refused(app, attempt, 400, "The launch's signature or claims are not valid.",
            "Signature verification failed")


def test_other_issuer(app, driver, learner):
    refused(app, driver.launch(learner, mutate=setclaim("iss", "https://evil.example")), 400,
            "The launch comes from another issuer than the login that began it.",
            f"iss 'https://evil.example' != login {driver.platform.issuer!r}")


def test_audience_not_ours(app, driver, learner):
    refused(app, driver.launch(learner, mutate=setclaim("aud", "someone-else")), 400,
            ANOTHER_CLIENT, "aud/azp 'someone-else' != login ")


def test_several_audiences_without_azp(app, driver, learner, platform):
    attempt = driver.launch(learner, mutate=setclaim("aud", [platform.client_id, "other"]))
    refused(app, attempt, 400, (
        "The launch names several audiences but no authorized party (azp) among them."))


def test_several_audiences_with_foreign_azp(app, driver, learner, platform):
    def both(claims, header):
        claims["aud"] = [platform.client_id, "other"]
        claims["azp"] = "other"

    refused(app, driver.launch(learner, mutate=both), 400, ANOTHER_CLIENT)


def test_several_audiences_with_an_azp_outside_them(app, driver, learner, platform):
    def both(claims, header):
        claims["aud"] = [platform.client_id, "other"]
        claims["azp"] = "elsewhere"

    refused(app, driver.launch(learner, mutate=both), 400,
            "The launch names several audiences but no authorized party (azp) among them.")


@pytest.mark.parametrize("aud", [[123], [""], 123])
def test_audiences_that_are_not_names_count_as_none(app, driver, learner, aud):
    refused(app, driver.launch(learner, mutate=setclaim("aud", aud)), 400,
            "The launch names no audience (aud).")


def test_several_audiences_with_our_azp_is_accepted(app, driver, learner, platform):
    def both(claims, header):
        claims["aud"] = ["other", platform.client_id]
        claims["azp"] = platform.client_id

    attempt = driver.launch(learner, mutate=both)
    assert attempt.landed


def test_nonce_not_ours(app, driver, learner):
    refused(app, driver.launch(learner, mutate=setclaim("nonce", "nonce-of-someone-else")), 400,
            "The launch's nonce is not the one this tool gave at login.", "nonce mismatch")


def test_replayed_launch(app, driver, learner):
    attempt = driver.launch(learner)
    assert attempt.landed
    again = driver.post_launch(attempt)
    assert again.status_code == 400
    assert EXPIRED in again.text
    [line] = refusals()
    assert line == ("launch refused (400): unknown, expired or replayed state "
                    f"{attempt.state[:16]}...")


def test_state_missing(app, driver, learner):
    attempt = driver.authorize(driver.login(learner))
    response = requests.post(attempt.launch_action, data={"id_token": attempt.id_token},
                             cookies=attempt.cookies, allow_redirects=False)
    assert response.status_code == 400
    assert alert_text(response) == (
        "The launch has no state. Open the activity again from the course.")
    assert _people(app) == 0


def test_state_unknown(app, driver, learner):
    attempt = driver.authorize(driver.login(learner))
    driver.post_launch(attempt, state="state-forged",
                       cookies={"dmd-lti-state-forged": "state-forged"})
    refused(app, attempt, 400, EXPIRED, "unknown, expired or replayed state state-forged...")


def test_state_cookie_missing(app, driver, learner):
    # Moodle-like: no Platform Storage either, so the answer is a new window, not a launch
    # (tests/lti/test_platform_storage.py covers the platform-storage side).
    driver.platform.settings["platform_storage"] = False
    attempt = driver.authorize(driver.login(learner))
    driver.post_launch(attempt, cookies={})
    refused(app, attempt, 200, "Open in a new window")
    # The new window starts this login again, with the platform's own login parameters.
    login = attempt.login_fields
    new_window = re.search(r'href="([^"]*lti1p3_new_window[^"]*)"', attempt.launch_response.text)
    query = parse_qs(urlsplit(unescape(new_window.group(1))).query)
    assert query["lti1p3_new_window"] == ["1"]
    for name in ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id"):
        assert query[name] == [login[name]], name


def test_state_of_another_browser(app, driver, learner):
    """Login CSRF: an attacker's id_token and state posted from the victim's browser."""
    driver.platform.settings["platform_storage"] = False
    attacker = driver.authorize(driver.login(learner))
    victim = driver.login(driver.user("Learner", 1)["id"])
    driver.post_launch(attacker, cookies=victim.cookies)
    refused(app, attacker, 200, "Open in a new window")


def test_state_cookie_of_another_value(app, driver, learner):
    attempt = driver.authorize(driver.login(learner))
    driver.post_launch(attempt, cookies={name: "state-forged" for name in attempt.cookies})
    refused(app, attempt, 400, (
        "Your browser sent back another cookie than the one set when the launch began, so this "
        "launch cannot be tied to you. Open the activity again."), "state cookie different")
    assert refusals() == ["launch refused (400): state cookie different"]


def test_target_link_uri_differs_from_login(app, driver, learner, tool_server):
    attempt = driver.launch(
        learner, mutate=setclaim(CLAIM + "target_link_uri", tool_server.url + "/lti/launch?x=1")
    )
    refused(app, attempt, 400,
            "The launch's target_link_uri differs from the one given at login.",
            f"'{tool_server.url}/lti/launch?x=1' != '{tool_server.url}/lti/launch'")


def test_unknown_claims_are_ignored(app, driver, learner):
    def extra(claims, header):
        claims["https://example.com/claim/whatever"] = {"a": 1}
        claims[CLAIM + "future_claim"] = "x"

    assert driver.launch(learner, mutate=extra).landed


def test_state_cookie_is_secure_samesite_none_partitioned(driver, learner):
    attempt = driver.login(learner)
    cookie = attempt.login_response.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/lti/"):
        assert attribute in cookie
    # It lives as long as a login may take (pylti1p3's five minutes), then the browser drops it.
    assert "Max-Age=300" in cookie


def test_learner_record_only_after_valid_launch(app, driver, learner):
    attempt = driver.launch(learner)
    assert attempt.landed
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 1


def test_platform_auth_error_is_shown(app, driver, learner):
    """Moodle posts `error` and `error_description` back when it refuses the login."""
    attempt = driver.login(learner)
    location = attempt.auth_url.replace(
        "prompt=none", "prompt=login"
    )
    response = driver.http.get(location, allow_redirects=False)
    from tests.launch_driver import parse_form

    action, fields = parse_form(response.text)
    assert "error" in fields and "id_token" not in fields
    launch = requests.post(action, data=fields, cookies=attempt.cookies, allow_redirects=False)
    assert launch.status_code == 400
    error, description = fields["error"], fields.get("error_description", "")
    assert alert_text(launch) == f"The platform refused the login: {error}. {description}"
    assert _people(app) == 0
    assert refusals() == [f"launch refused (400): platform auth error {error!r}: {description!r}"]


def test_an_error_field_beside_an_id_token_is_not_a_refused_login(app, driver, learner):
    # Only an OIDC error answer without an id_token means the platform refused the login.
    attempt = driver.authorize(driver.login(learner))
    attempt.launch_response = requests.post(
        attempt.launch_action, data={"id_token": attempt.id_token, "state": attempt.state,
                                     "error": "invalid_request"},
        cookies=attempt.cookies, allow_redirects=False)
    assert attempt.landed


def test_an_accepted_launch_is_logged_without_secrets(app, driver, learner, platform, caplog):
    import json

    caplog.set_level("INFO", logger="lti_tool.lti.views")
    attempt = driver.launch(learner)
    assert attempt.landed
    [line] = [r.getMessage() for r in caplog.records
              if r.getMessage().startswith("launch accepted as ")]
    role, _, summary = line.removeprefix("launch accepted as ").partition(": ")
    claims = jwt.decode(attempt.id_token, options={"verify_signature": False})
    assert role == "learner"
    assert json.loads(summary) == {
        "iss": platform.issuer, "sub": learner,
        "deployment_id": claims[CLAIM + "deployment_id"],
        "context": claims[CLAIM + "context"]["id"],
        "message_type": "LtiResourceLinkRequest",
    }
    assert attempt.id_token not in line and "nonce" not in line


@pytest.fixture
def key_set_url(app):
    from lti_tool.identity.models import Platform

    with app.app_context():
        url = db.session.scalar(select(Platform.key_set_url))
    yield url
    from lti_tool.lti import registry

    with app.app_context():
        registry.keep_key_set(url, {"keys": []}, -1)  # this process forgets it again


@pytest.mark.parametrize("key", [{"kty": "EC", "crv": "P-256"}, {"kty": "RSA", "alg": "RS512"}])
def test_a_platform_key_of_another_kind_is_refused(app, driver, learner, key_set_url, key):
    from lti_tool.lti import registry

    attempt = driver.authorize(driver.login(learner))
    kid = jwt.get_unverified_header(attempt.id_token)["kid"]
    with app.app_context():
        registry.keep_key_set(key_set_url, {"keys": [{**key, "kid": kid}]}, 60)
    driver.post_launch(attempt)
    refused(app, attempt, 400, f"The platform key {kid} is not an RS256 key.")


def test_a_key_changed_under_the_same_kid_verifies_with_the_new_material(
        app, driver, learner, key_set_url):
    # The tool keeps each platform key it built (keyed by its modulus and exponent): a key
    # set that now publishes other material under the same kid is checked against the new
    # material, never against the key built before.
    from lti_tool.lti import registry

    assert driver.launch(learner).landed  # the published key is now built and kept
    kid = platform_kid(driver, learner)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    replaced = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(other.public_key())),
                "kid": kid, "alg": "RS256", "use": "sig"}
    with app.app_context():
        registry.keep_key_set(key_set_url, {"keys": [replaced]}, 60)

    stale = driver.authorize(driver.login(learner))  # signed with the key built before
    driver.post_launch(stale)
    assert stale.launch_response.status_code == 400
    assert alert_text(stale.launch_response) == "The launch's signature or claims are not valid."

    fresh = driver.authorize(driver.login(learner))
    claims = jwt.decode(fresh.id_token, options={"verify_signature": False})
    driver.post_launch(fresh, id_token=jwt.encode(claims, other, algorithm="RS256",
                                                  headers={"kid": kid}))
    assert fresh.landed


def platform_kid(driver, learner) -> str:
    """The kid the platform signs launches with now."""
    return jwt.get_unverified_header(driver.authorize(driver.login(learner)).id_token)["kid"]


@pytest.mark.parametrize("material", [{"n": "not*base64", "e": "AQAB"}, {"n": ["x"], "e": 3}])
def test_a_platform_key_whose_material_is_no_rsa_key_is_refused(app, driver, learner,
                                                                 key_set_url, material):
    from lti_tool.lti import registry

    attempt = driver.authorize(driver.login(learner))
    kid = jwt.get_unverified_header(attempt.id_token)["kid"]
    with app.app_context():
        registry.keep_key_set(key_set_url, {"keys": [
            {"kty": "RSA", "alg": "RS256", "kid": kid, **material}]}, 60)
    driver.post_launch(attempt)
    refused(app, attempt, 400, "The launch's signature or claims are not valid.",
            "the platform key")


def test_a_key_set_that_cannot_be_read_is_a_502_with_the_address(app, driver, learner,
                                                                  key_set_url):
    from lti_tool.identity.models import Platform

    dead = "http://127.0.0.1:9/jwks"
    with app.app_context():
        db.session.execute(update(Platform).values(key_set_url=dead))
        db.session.commit()
    try:
        attempt = driver.launch(learner, mutate=lambda c, h: h.__setitem__("kid", "new-key"))
        refused(app, attempt, 502, f"The platform's public keys could not be read from {dead}.")
        [line] = refusals()
        assert line.startswith("launch refused (502): JWKS fetch failed: ")
    finally:
        with app.app_context():
            db.session.execute(update(Platform).values(key_set_url=key_set_url))
            db.session.commit()


def test_a_platform_removed_between_login_and_launch_is_refused(app, driver, learner,
                                                                platform):
    # An administrator removes the registration while a launch is on its way: the login
    # found it, the launch must not.
    attempt = driver.authorize(driver.login(learner))
    removed = app.test_cli_runner().invoke(args=[
        "platforms", "remove", "--issuer", platform.issuer, "--client-id", platform.client_id])
    assert removed.exit_code == 0, removed.output
    driver.post_launch(attempt)
    refused(app, attempt, 400, f"This tool has no registration for issuer {platform.issuer}.")


def test_a_key_set_address_answering_something_else_is_a_502(app, driver, learner, key_set_url,
                                                              tool_server):
    from lti_tool.identity.models import Platform

    # JSON, but not a key set: the tool's own health answer.
    elsewhere = tool_server.url + "/healthz"
    with app.app_context():
        db.session.execute(update(Platform).values(key_set_url=elsewhere))
        db.session.commit()
    try:
        attempt = driver.launch(learner, mutate=lambda c, h: h.__setitem__("kid", "new-key"))
        refused(app, attempt, 502,
                f"The platform's public keys could not be read from {elsewhere}.")
        assert refusals() == ["launch refused (502): JWKS fetch failed: no 'keys' list"]
    finally:
        with app.app_context():
            db.session.execute(update(Platform).values(key_set_url=key_set_url))
            db.session.commit()
