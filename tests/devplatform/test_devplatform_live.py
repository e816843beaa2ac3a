"""The platform over real HTTP on 127.0.0.1, as the tool and a browser meet it."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import jwt
import requests
from devplatform_testkit import AUTH_PARAMS, CLIENT_ID

from lti_tool.devplatform.forms import read_form

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def test_a_launch_and_a_roster_sync_over_http(live_platform, fake_tool):
    base = live_platform.url
    platform = live_platform.platform

    # The browser loads the login page; the "tool" answers by redirecting to auth.php.
    page = requests.get(f"{base}/mod/lti/launch.php?id=2&user=4", timeout=10)
    action, method, fields = read_form(page.text)
    assert (action, method) == (platform.tool.login_url, "post")
    auth = requests.get(platform.auth_login_url, timeout=10, params={
        **AUTH_PARAMS, "redirect_uri": platform.tool.redirect_uris[0],
        "login_hint": fields["login_hint"], "lti_message_hint": fields["lti_message_hint"]})
    _, _, posted = read_form(auth.text)
    jwks = jwt.PyJWKClient(platform.key_set_url)
    key = jwks.get_signing_key_from_jwt(posted["id_token"])
    claims = jwt.decode(posted["id_token"], key.key, algorithms=["RS256"], audience=CLIENT_ID)
    nrps = claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"]

    # The tool gets a token (the platform fetches the tool's JWKS over HTTP) ...
    now = int(time.time())
    assertion = fake_tool.sign({"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": platform.auth_token_url,
                                "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex})
    token = requests.post(platform.auth_token_url, timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion, "scope": NRPS_SCOPE}).json()["access_token"]

    # ... and follows Link rel="next" without altering the URL.
    url, members = nrps["context_memberships_url"] + "?limit=4", []
    while url:
        response = requests.get(url, timeout=10, headers={
            "Authorization": f"Bearer {token}", "Accept": MEMBERSHIP_TYPE})
        assert response.status_code == 200
        members += response.json()["members"]
        match = re.search(r'<([^>]+)>;\s*rel="next"', response.headers.get("link", ""))
        url = match.group(1) if match else None
    assert len(members) == 13


def test_a_hanging_platform_makes_a_client_time_out(live_platform):
    platform = live_platform.platform
    platform.settings.update(ags_failure="hang", ags_hang_seconds=2)
    token = platform.issue_access_token(["https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    started = time.monotonic()
    try:
        requests.post(platform.service_url("2", 2, "scores"), timeout=0.5, data="{}", headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/vnd.ims.lis.v1.score+json"})
    except requests.Timeout:
        pass
    else:
        raise AssertionError("the platform answered instead of hanging")
    assert time.monotonic() - started < 1.5


def test_concurrent_scores_all_land_once(live_platform):
    platform = live_platform.platform
    token = platform.issue_access_token(["https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    learners = [u["id"] for u in platform.users() if u["role"] == "Learner"]
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")

    def post(user_id: str) -> int:
        body = {"userId": user_id, "scoreGiven": 1, "scoreMaximum": 2, "timestamp": stamp,
                "activityProgress": "Completed", "gradingProgress": "FullyGraded"}
        return requests.post(platform.service_url("2", 2, "scores"), json=body, timeout=10,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/vnd.ims.lis.v1.score+json"},
                             ).status_code

    # Each learner twice at once: exactly one of each pair wins, the other gets 409.
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(post, learners * 2))

    assert sorted(statuses) == [200] * len(learners) + [409] * len(learners)
    (item,) = platform.gradebook()
    assert sorted(s["userId"] for s in item["scores"]) == sorted(learners)
    assert len(item["history"]) == len(learners)
