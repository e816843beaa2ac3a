"""The Canvas profile keeps Canvas's rules (docs/canvas-profile.md names the source of each)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from devplatform_testkit import AUTH_PARAMS, LEARNER, TEACHER, bearer, platform_settings

from lti_tool.devplatform import create_platform_app
from lti_tool.devplatform.canvas import CANVAS_ISSUER, lti_id
from lti_tool.devplatform.forms import read_form
from lti_tool.devplatform.scopes import AGS_LINEITEM, AGS_SCORE, NRPS_MEMBERSHIP

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
SCHOOL = "http://school.localhost:5001"
SSO = "http://sso.localhost:5001"


@pytest.fixture
def canvas(tmp_path, fake_tool):
    """A Canvas school with 60 learners (more than one NRPS page)."""
    app = create_platform_app(platform_settings(tmp_path, fake_tool, PROFILE="canvas",
                                                LEARNERS=60))
    return app.extensions["devplatform"], app.test_client()


def _id_token(platform, web, user_id: str, **launch) -> dict:
    url, fields = platform.initiate_login_form(user_id, **launch)
    params = {**AUTH_PARAMS, "client_id": platform.client_id,
              "redirect_uri": platform.tool.redirect_uris[0],
              "login_hint": fields["login_hint"], "lti_message_hint": fields["lti_message_hint"]}
    redirect = web.get("/api/lti/authorize_redirect", query_string=params, base_url=SSO)
    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith(SCHOOL + "/api/lti/authorize?")
    answer = web.get(redirect.headers["Location"], base_url=SCHOOL)
    _, _, posted = read_form(answer.get_data(as_text=True))
    assert posted["lti_storage_target"] == "post_message_forwarding"
    return jwt.decode(posted["id_token"], options={"verify_signature": False})


def test_a_launch_is_signed_as_canvas_cloud_and_comes_from_the_school(canvas):
    platform, web = canvas
    url, fields = platform.initiate_login_form(LEARNER)
    assert fields["iss"] == CANVAS_ISSUER
    assert fields["lti_storage_target"] == "post_message_forwarding"
    assert fields["canvas_environment"] == "prod" and fields["deployment_id"]
    claims = _id_token(platform, web, LEARNER)
    assert claims["iss"] == CANVAS_ISSUER
    assert claims["aud"] == claims["azp"] == platform.client_id
    assert claims["sub"] == lti_id(LEARNER) and claims["exp"] - claims["iat"] == 3600
    assert claims["https://www.instructure.com/placement"] == "assignment"
    assert CLAIM + "lis" in claims and "name" in claims and "email" not in claims
    assert claims[CLAIM + "roles"][1] == "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    ags = claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitem"].startswith(SCHOOL + "/api/lti/courses/2/line_items/")


def test_the_login_hint_and_message_hint_are_checked(canvas):
    platform, web = canvas
    _, fields = platform.initiate_login_form(LEARNER)
    forged = fields["lti_message_hint"][:-4] + "AAAA"
    params = {**AUTH_PARAMS, "client_id": platform.client_id,
              "redirect_uri": platform.tool.redirect_uris[0],
              "login_hint": fields["login_hint"], "lti_message_hint": forged}
    answer = web.get("/api/lti/authorize", query_string=params, base_url=SCHOOL)
    assert answer.status_code == 400 and "not a valid Canvas hint" in answer.get_data(as_text=True)


def test_each_endpoint_answers_on_its_own_host_only(canvas):
    platform, web = canvas
    assert web.get("/api/lti/security/jwks", base_url=SSO).status_code == 200
    assert web.get("/api/lti/security/jwks", base_url=SCHOOL).status_code == 404
    assert web.get("/courses/2?as=4", base_url=SSO).status_code == 404
    assert web.get("/courses/2?as=4", base_url=SCHOOL).status_code == 200
    headers = bearer(platform, NRPS_MEMBERSHIP)
    assert web.get("/api/lti/courses/2/names_and_roles", headers=headers,
                   base_url=SSO).status_code == 404


@pytest.mark.parametrize("privacy, observees", [("name_only", False), ("public", True)])
def test_observers_are_named_to_public_tools_only(canvas, privacy, observees):
    platform, web = canvas
    platform.settings["canvas_privacy"] = privacy
    observer = next(u for u in platform.users() if u["role"] == "Mentor")
    claims = _id_token(platform, web, observer["id"])
    assert "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor" in claims[CLAIM + "roles"]
    assert (CLAIM + "role_scope_mentor" in claims) is observees
    if observees:
        assert claims[CLAIM + "role_scope_mentor"] == [lti_id(observer["observes"])]


def test_a_course_navigation_launch_has_the_course_as_its_link_and_no_line_item(canvas):
    platform, web = canvas
    claims = _id_token(platform, web, LEARNER, resource_link_id=None,
                       placement="course_navigation")
    assert claims[CLAIM + "resource_link"]["id"] == claims[CLAIM + "context"]["id"]
    assert "lineitem" not in claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]


def _score(web, platform, **body):
    score = {"userId": lti_id(LEARNER), "scoreGiven": 7, "scoreMaximum": 10,
             "activityProgress": "Completed", "gradingProgress": "FullyGraded",
             "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds")}
    score.update(body)
    score = {key: value for key, value in score.items() if value is not None}
    return web.post("/api/lti/courses/2/line_items/2/scores", json=score, base_url=SCHOOL,
                    headers={**bearer(platform, AGS_SCORE), "Content-Type": SCORE_TYPE})


def test_scores_follow_canvas_rules(canvas):
    platform, web = canvas
    stamp = datetime.now(UTC)
    first = _score(web, platform, timestamp=stamp.isoformat())
    assert first.status_code == 200 and "resultUrl" in first.get_json()
    # The same timestamp again is accepted (Moodle would answer 409); an earlier one is 400.
    assert _score(web, platform, timestamp=stamp.isoformat()).status_code == 200
    earlier = _score(web, platform, timestamp=(stamp - timedelta(seconds=1)).isoformat())
    assert earlier.status_code == 400 and "before last updated" in earlier.get_data(as_text=True)
    # Every POST is logged with Canvas's answer, accepted or not.
    assert [p["status"] for p in platform.score_posts()] == [200, 200, 400]
    # The teacher is not a student: 422; a scoreGiven without scoreMaximum: 422.
    assert _score(web, platform, userId=lti_id(TEACHER)).status_code == 422
    assert _score(web, platform, scoreMaximum=None).status_code == 422
    future = {"submitted_at": (stamp + timedelta(hours=1)).isoformat()}
    answer = _score(web, platform, **{"https://canvas.instructure.com/lti/submission": future})
    assert answer.status_code == 400 and "in the future" in answer.get_data(as_text=True)
    [item] = [i for i in platform.gradebook() if i["id"] == 2]
    assert [s["grade"] for s in item["scores"]] == [70]
    # Pending keeps no score: Canvas clears the grade.
    assert _score(web, platform, gradingProgress="Pending").status_code == 200
    [item] = [i for i in platform.gradebook() if i["id"] == 2]
    assert [s["grade"] for s in item["scores"]] == [None]


def test_a_line_item_on_a_link_needs_an_assignment_link(canvas):
    platform, web = canvas
    headers = {**bearer(platform, AGS_LINEITEM), "Content-Type": LINEITEM_TYPE}
    course_link = _id_token(platform, web, LEARNER, resource_link_id=None,
                            placement="course_navigation")[CLAIM + "resource_link"]["id"]
    refused = web.post("/api/lti/courses/2/line_items", base_url=SCHOOL, headers=headers,
                       json={"label": "x", "scoreMaximum": 10, "resourceLinkId": course_link})
    assert refused.status_code == 404
    free = web.post("/api/lti/courses/2/line_items", base_url=SCHOOL, headers=headers,
                    json={"label": "Extra column", "scoreMaximum": 10})
    assert free.status_code == 201 and "resourceLinkId" not in free.get_json()
    # An assignment's own line item is coupled to it: it cannot be deleted.
    assert web.delete("/api/lti/courses/2/line_items/2", base_url=SCHOOL,
                      headers=headers).status_code == 401


def test_the_roster_pages_as_canvas_pages(canvas):
    platform, web = canvas
    headers = bearer(platform, NRPS_MEMBERSHIP)
    url, members, pages = "/api/lti/courses/2/names_and_roles?limit=500", [], 0
    while url:
        answer = web.get(url, base_url=SCHOOL, headers=headers)
        assert answer.status_code == 200
        body = answer.get_json()
        members += body["members"]
        pages += 1
        link = answer.headers["Link"]
        assert 'rel="current"' in link and 'rel="first"' in link and 'rel="last"' in link
        match = re.search(r'<([^>]+)>; rel="next"', link)
        url = match.group(1) if match else None
    # 60 learners, a teacher and an observer; never more than 50 a page, whatever limit asks.
    assert (len(members), pages) == (62, 2)
    assert all("email" not in m and m["roles"][0].startswith("http://purl") for m in members)
    assert {m["user_id"] for m in members} == {lti_id(u["id"]) for u in platform.users()}


def test_the_openid_configuration_names_the_canvas_hosts(canvas):
    platform, web = canvas
    configuration = web.get("/.well-known/openid-configuration").get_json()
    assert configuration["issuer"] == CANVAS_ISSUER
    assert configuration["registration_endpoint"] == SCHOOL + "/api/lti/registrations"
    assert configuration["authorization_endpoint"] == SSO + "/api/lti/authorize_redirect"
