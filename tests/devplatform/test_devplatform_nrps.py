"""NRPS memberships: literal Accept matching, short role names, paging, filters and privacy."""

from __future__ import annotations

import re

import pytest
from devplatform_testkit import bearer

MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
PATH = "/mod/lti/services.php/CourseSection/2/bindings/1/memberships"


def get(web, devplatform, query="", accept=MEMBERSHIP_TYPE):
    headers = bearer(devplatform, SCOPE)
    if accept is not None:
        headers["Accept"] = accept
    return web.get(PATH + query, headers=headers)


@pytest.mark.parametrize("accept", [MEMBERSHIP_TYPE, "*/*", None, "application/json, */*;q=0.1"])
def test_accepted_accept_headers(web, devplatform, accept):
    response = get(web, devplatform, accept=accept)
    assert response.status_code == 200 and response.mimetype == MEMBERSHIP_TYPE


@pytest.mark.parametrize("accept", ["application/json",
                                    MEMBERSHIP_TYPE + "; charset=utf-8"])
def test_other_accept_headers_are_400(web, devplatform, accept):
    assert get(web, devplatform, accept=accept).status_code == 400


def test_members_carry_short_roles_and_personal_data(web, devplatform):
    body = get(web, devplatform).get_json()

    assert body["id"] == devplatform.issuer + PATH
    assert body["context"] == {"id": "2", "label": "DMD101", "title": "Design Mindset DMD101"}
    members = body["members"]
    assert len(members) == 13  # 12 learners and the instructor
    teacher = next(m for m in members if m["user_id"] == "3")
    assert teacher["roles"] == ["Instructor"] and teacher["name"] == "Terry Teacher"
    assert teacher["email"] == "teacher1@example.com" and teacher["status"] == "Active"
    assert {tuple(m["roles"]) for m in members} == {("Learner",), ("Instructor",)}


def test_limit_pages_with_an_absolute_link_next(web, devplatform):
    seen, query = [], "?limit=5"
    while True:
        response = get(web, devplatform, query)
        seen += [m["user_id"] for m in response.get_json()["members"]]
        link = response.headers.get("Link")
        if not link:
            break
        url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1)
        assert url.startswith(devplatform.issuer + PATH + "?") and "&from=" in url
        query = url.removeprefix(devplatform.issuer + PATH)
    assert len(seen) == 13 and len(set(seen)) == 13


def test_role_filter_takes_short_names_and_uris(web, devplatform):
    learners = get(web, devplatform, "?role=Learner").get_json()["members"]
    assert len(learners) == 12 and all(m["roles"] == ["Learner"] for m in learners)
    uri = "?role=http%3A%2F%2Fpurl.imsglobal.org%2Fvocab%2Flis%2Fv2%2Fmembership%23Instructor"
    assert [m["user_id"] for m in get(web, devplatform, uri).get_json()["members"]] == ["3"]
    filtered_page = get(web, devplatform, "?role=Learner&limit=10")
    assert "role=Learner" in filtered_page.headers["Link"]


def test_rlid_is_accepted_for_a_link_of_the_course(web, devplatform):
    assert get(web, devplatform, "?rlid=1").status_code == 200
    assert get(web, devplatform, "?rlid=42").status_code == 400


def test_privacy_switches_withhold_name_and_email(web, devplatform):
    devplatform.settings.update(share_name=False, share_email=False)
    for member in get(web, devplatform).get_json()["members"]:
        assert set(member) == {"status", "user_id", "roles", "lis_person_sourcedid"}


def test_disabled_nrps_is_404(web, devplatform):
    devplatform.settings["nrps_enabled"] = False
    assert get(web, devplatform).status_code == 404


def test_needs_the_membership_scope(web, devplatform):
    headers = bearer(devplatform, "https://purl.imsglobal.org/spec/lti-ags/scope/score")
    assert web.get(PATH, headers=headers).status_code == 401
    assert web.get(PATH).status_code == 401
