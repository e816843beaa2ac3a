"""The platform as a site: console pages, settings, seeding, keys, isolation and the CLI."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from devplatform_testkit import LEARNER, bearer, platform_settings

from lti_tool.devplatform import create_platform_app
from lti_tool.devplatform.config import ProductionRefused
from lti_tool.devplatform.keys import KEY_FILE

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
SCORES = "/mod/lti/services.php/2/lineitems/2/lineitem/scores?type_id=1"


def post_score(web, devplatform, user_id=LEARNER, given=7):
    body = {"userId": user_id, "scoreGiven": given, "scoreMaximum": 10,
            "activityProgress": "Completed", "gradingProgress": "FullyGraded",
            "timestamp": datetime.now(UTC).isoformat()}
    headers = {"Content-Type": SCORE_TYPE,
               **bearer(devplatform, "https://purl.imsglobal.org/spec/lti-ags/scope/score")}
    return web.post(SCORES, data=json.dumps(body), headers=headers)


def assert_self_contained(html: str) -> None:
    """No inline script or style, nothing loaded from another site."""
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "style=" not in html and "<style" not in html
    assert not re.search(r'(src|href)="https?://', html)


def test_console_offers_launch_as_for_every_user(web, devplatform):
    html = web.get("/").get_data(as_text=True)
    for user in devplatform.users():
        assert f'href="/course/view.php?id=2&amp;as={user["id"]}">Launch as' in html
    assert 'href="/grade/report/index.php?id=2"' in html
    assert "Add activity (Deep Linking)" in html
    assert "ags_failure" in html  # the switches are shown
    assert_self_contained(html)


def test_course_page_embeds_the_login_page_in_contentframe(web):
    html = web.get("/course/view.php?id=2&as=4").get_data(as_text=True)
    assert re.search(r'<iframe id="contentframe"[^>]*src="/mod/lti/launch.php\?id=2&amp;user=4"',
                     html)
    assert_self_contained(html)
    assert web.get("/course/view.php?id=2&as=999").status_code == 404


def test_add_activity_page_embeds_a_deep_linking_launch(web):
    html = web.get("/course/modedit.php?course=2&as=3").get_data(as_text=True)
    assert 'src="/mod/lti/launch.php?course=2&amp;user=3&amp;kind=deeplink"' in html


def test_gradebook_page_and_json_show_the_current_score(web, devplatform):
    assert post_score(web, devplatform).status_code == 200
    html = web.get("/grade/report/index.php?id=2").get_data(as_text=True)
    assert ">70<" in html  # 7/10 rescaled to 100
    assert web.get("/grade/report/index.json?id=2").get_json() == devplatform.gradebook()


def test_settings_form_changes_only_what_it_names(web, devplatform):
    response = web.post("/settings", data={"ags_failure": "500", "ags_hang_seconds": "2"})
    assert response.status_code == 303
    assert devplatform.settings["ags_failure"] == "500"
    assert devplatform.settings["ags_hang_seconds"] == 2.0
    assert devplatform.settings["nrps_enabled"] is True
    web.post("/settings", data={"share_email": ["0", "1"], "nrps_enabled": "0", "ags_failure": ""})
    assert devplatform.settings["share_email"] is True
    assert devplatform.settings["nrps_enabled"] is False
    assert devplatform.settings["ags_failure"] is None
    assert web.post("/settings", data={"ags_failure": "teapot"}).status_code == 400
    assert web.post("/settings", data={"surprise": "1"}).status_code == 400
    foreign = web.post("/settings", data={"ags_failure": "500"},
                       headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and devplatform.settings["ags_failure"] is None
    assert "checked" in web.get("/settings").get_data(as_text=True)


def test_default_settings_restore_the_switches(devplatform):
    devplatform.settings.update(nrps_enabled=False, ags_failure="hang")
    devplatform.settings.update(devplatform.default_settings())
    assert devplatform.settings["nrps_enabled"] is True
    assert devplatform.settings["ags_failure"] is None


def test_seeded_names_are_varied_and_the_same_every_time(tmp_path, fake_tool):
    first = create_platform_app(platform_settings(tmp_path / "a", fake_tool, LEARNERS=30))
    second = create_platform_app(platform_settings(tmp_path / "b", fake_tool, LEARNERS=30))
    users = first.extensions["devplatform"].users()
    assert users == second.extensions["devplatform"].users()
    learners = [u for u in users if u["role"] == "Learner"]
    assert len(learners) == 30
    assert len({u["family_name"] for u in learners}) >= 20
    assert len({u["email"] for u in users}) == 31
    assert users[-1] == {"id": "3", "username": "teacher1", "given_name": "Terry",
                         "family_name": "Teacher", "name": "Terry Teacher",
                         "email": "teacher1@example.com", "role": "Instructor"}


def test_key_is_private_and_kept_with_the_data_across_restarts(tmp_path, fake_tool, web,
                                                               devplatform):
    key_file = tmp_path / "devplatform" / KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert post_score(web, devplatform).status_code == 200

    again = create_platform_app(platform_settings(tmp_path, fake_tool)).extensions["devplatform"]

    assert again.key.kid == devplatform.key.kid
    assert len(again.gradebook()[0]["scores"]) == 1


def test_a_different_seed_starts_afresh(tmp_path, fake_tool, web, devplatform):
    post_score(web, devplatform)
    again = create_platform_app(platform_settings(tmp_path, fake_tool, LEARNERS=3))
    platform = again.extensions["devplatform"]
    assert len(platform.users()) == 4 and platform.gradebook()[0]["scores"] == []


def test_a_second_course_is_isolated(tmp_path, fake_tool):
    courses = [{"id": "2", "label": "DMD101", "title": "Design Mindset DMD101"},
               {"id": "3", "label": "DMD202", "title": "Design Mindset DMD202", "learners": 4}]
    app = create_platform_app(platform_settings(tmp_path, fake_tool, COURSES=courses))
    platform, web = app.extensions["devplatform"], app.test_client()
    other = platform.users("3")
    assert {u["id"] for u in other}.isdisjoint({u["id"] for u in platform.users("2")})
    instructor = next(u for u in other if u["role"] == "Instructor")
    assert instructor["username"] == "teacher2"
    outsider = next(u for u in other if u["role"] == "Learner")["id"]

    # A learner of course 3 cannot be graded or launched in course 2.
    response = post_score(web, platform, outsider)
    assert response.status_code == 400 and response.get_json() == []
    assert web.get(f"/mod/lti/launch.php?id=2&user={outsider}").status_code == 403
    # Course 3 has its own activity, line item and roster.
    (activity,) = platform.store.activities("3")
    claims = platform.build_launch_claims(outsider, course_id="3",
                                          resource_link_id=activity["resource_link_id"], nonce="n")
    assert claims["https://purl.imsglobal.org/spec/lti/claim/context"]["id"] == "3"
    assert "/services.php/3/lineitems/" in claims[
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["lineitem"]
    scope = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
    members = web.get("/mod/lti/services.php/CourseSection/3/bindings/1/memberships",
                      headers=bearer(platform, scope)).get_json()["members"]
    assert {m["user_id"] for m in members} == {u["id"] for u in other}


def test_refuses_to_exist_in_production(tmp_path, fake_tool, monkeypatch):
    monkeypatch.setenv("LTI_TOOL_ENV", "production")
    with pytest.raises(ProductionRefused):
        create_platform_app(platform_settings(tmp_path, fake_tool))


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lti_tool.devplatform", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_cli_exits_2_in_production():
    result = run_cli("--port", "5999", env={"LTI_TOOL_ENV": "production"})
    assert result.returncode == 2 and "production" in result.stderr


def test_cli_prints_the_registration():
    result = run_cli("registration", "--issuer", "http://localhost:5001")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "issuer": "http://localhost:5001",
        "client_id": "dmd-devplatform",
        "deployment_id": "1",
        "auth_login_url": "http://localhost:5001/mod/lti/auth.php",
        "auth_token_url": "http://localhost:5001/mod/lti/token.php",
        "key_set_url": "http://localhost:5001/mod/lti/certs.php",
    }
    args = run_cli("registration", "--issuer", "http://localhost:5001", "--format", "args")
    assert args.stdout.split()[:4] == ["--issuer", "http://localhost:5001", "--client-id",
                                       "dmd-devplatform"]


@pytest.mark.parametrize("profile", ["moodle", "canvas"])
def test_the_console_launch_options_reach_the_id_token(web, devplatform, profile):
    """Language, role and a person without name or e-mail, as the console's form sends them."""
    answer = web.post("/settings", data={
        "next": "/", "profile": profile, "launch_locale": "pl", "launch_role": "Instructor",
        "launch_anonymous": ["0", "1"]})
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    claims = devplatform.build_launch_claims(LEARNER, nonce="n")
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    assert claims[lti + "launch_presentation"]["locale"] == "pl"
    assert "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor" in claims[lti + "roles"]
    assert not {"name", "given_name", "family_name", "email"} & set(claims)
    assert web.post("/settings", data={"launch_locale": "de"}).status_code == 400
