"""AGS line items, scores and results with Moodle 4.5's rules, and the ags_failure switch."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from devplatform_testkit import LEARNER, TEACHER, bearer

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEMS = "/mod/lti/services.php/2/lineitems?type_id=1"
LINEITEM = "/mod/lti/services.php/2/lineitems/2/lineitem?type_id=1"
SCORES = "/mod/lti/services.php/2/lineitems/2/lineitem/scores?type_id=1"
RESULTS = "/mod/lti/services.php/2/lineitems/2/lineitem/results?type_id=1"


def stamp(moment: datetime) -> str:
    """ISO 8601 with milliseconds and zone, as a careful tool sends."""
    return moment.isoformat(timespec="milliseconds")


def score(user_id=LEARNER, when=None, **changes) -> dict:
    body = {"userId": user_id, "scoreGiven": 4, "scoreMaximum": 5, "comment": "Well done",
            "activityProgress": "Completed", "gradingProgress": "FullyGraded",
            "timestamp": stamp(when or datetime.now(UTC))}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post_score(web, devplatform, body, *, content_type=SCORE_TYPE, path=SCORES, headers=None):
    return web.post(path, data=json.dumps(body), headers={
        "Content-Type": content_type, **(headers or bearer(devplatform, SCOPE + "score"))})


def test_a_fully_graded_score_is_stored_rescaled_with_an_empty_200(web, devplatform):
    response = post_score(web, devplatform, score())

    assert response.status_code == 200 and response.data == b""
    (item,) = devplatform.gradebook()
    (current,) = item["scores"]
    assert current["userId"] == LEARNER and current["grade"] == 80  # 4/5 of 100
    assert (current["scoreGiven"], current["scoreMaximum"]) == (4, 5)
    assert current["comment"] == "Well done" and current["gradingProgress"] == "FullyGraded"
    assert len(item["history"]) == 1


def test_every_score_post_is_logged_with_its_answer_even_a_refused_one(web, devplatform):
    """What the tool sent, not what the gradebook kept: a repeat refused with 409 is logged."""
    first = score(when=datetime.now(UTC).replace(microsecond=100_000))
    assert post_score(web, devplatform, first).status_code == 200
    assert post_score(web, devplatform, first).status_code == 409
    assert post_score(web, devplatform, score(user_id=TEACHER)).status_code == 400

    posts = devplatform.score_posts()
    assert [(p["userId"], p["timestamp"], p["status"]) for p in posts] == [
        (LEARNER, first["timestamp"], 200), (LEARNER, first["timestamp"], 409),
        (TEACHER, posts[2]["timestamp"], 400)]
    assert {p["lineItemId"] for p in posts} == {"2"}
    assert len(devplatform.gradebook()[0]["history"]) == 1
    # Other requests are not scores.
    web.get(RESULTS, headers=bearer(devplatform, SCOPE + "result.readonly"))
    assert len(devplatform.score_posts()) == 3


def test_a_timestamp_in_the_same_second_is_refused_with_409(web, devplatform):
    first = datetime.now(UTC).replace(microsecond=100_000)
    assert post_score(web, devplatform, score(when=first)).status_code == 200

    same_second = post_score(web, devplatform, score(when=first + timedelta(milliseconds=800)))
    earlier = post_score(web, devplatform, score(when=first - timedelta(seconds=10)))
    later = post_score(web, devplatform, score(when=first + timedelta(seconds=1), scoreGiven=5))

    assert same_second.status_code == 409 and earlier.status_code == 409
    assert later.status_code == 200
    (item,) = devplatform.gradebook()
    assert [s["grade"] for s in item["scores"]] == [100]  # one current score per user
    assert len(item["history"]) == 2


def test_only_fully_graded_changes_the_grade_but_every_score_moves_the_clock(web, devplatform):
    start = datetime.now(UTC)
    post_score(web, devplatform, score(when=start))
    pending = post_score(web, devplatform, score(when=start + timedelta(seconds=1), scoreGiven=1,
                                                 gradingProgress="Pending"))
    again = post_score(web, devplatform, score(when=start + timedelta(seconds=1)))

    assert pending.status_code == 200 and again.status_code == 409
    (item,) = devplatform.gradebook()
    assert [s["grade"] for s in item["scores"]] == [80]
    assert [s["gradingProgress"] for s in item["history"]] == ["FullyGraded", "Pending"]


def test_a_score_for_the_instructor_is_400_with_an_empty_list(web, devplatform):
    response = post_score(web, devplatform, score(TEACHER))
    assert response.status_code == 400 and response.get_json() == []
    assert post_score(web, devplatform, score("999")).get_json() == []
    assert devplatform.gradebook()[0]["history"] == []


@pytest.mark.parametrize(
    "changes",
    [{"scoreMaximum": None}, {"timestamp": None}, {"timestamp": "2026-11-25T18:52:20"},
     {"activityProgress": None}, {"gradingProgress": "Done"}, {"userId": 4},
     {"scoreGiven": -1}, {"scoreMaximum": 0}],
    ids=["no-max", "no-timestamp", "no-zone", "no-activity", "bad-grading", "int-user",
         "negative", "zero-max"],
)
def test_malformed_scores_are_400(web, devplatform, changes):
    assert post_score(web, devplatform, score(**changes)).status_code == 400


@pytest.mark.parametrize("content_type", ["application/json",
                                          "application/vnd.ims.lis.v1.score+json; charset=utf-8",
                                          ""])
def test_the_score_content_type_must_be_exact(web, devplatform, content_type):
    response = post_score(web, devplatform, score(), content_type=content_type)
    assert response.status_code in (400, 415)
    assert devplatform.gradebook()[0]["history"] == []


def test_scores_appended_after_the_query_string_fail(web, devplatform):
    wrong = "/mod/lti/services.php/2/lineitems/2/lineitem?type_id=1/scores"
    assert post_score(web, devplatform, score(), path=wrong).status_code == 405
    no_query = "/mod/lti/services.php/2/lineitems/2/lineitem/scores"
    assert post_score(web, devplatform, score(), path=no_query).status_code == 400
    assert devplatform.gradebook()[0]["history"] == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer unknown"}, "lower-case scheme", "wrong scope"],
    ids=["none", "unknown", "bearer", "scope"],
)
def test_services_need_a_bearer_token_with_the_scope(web, devplatform, headers):
    if headers == "lower-case scheme":
        token = devplatform.issue_access_token([SCOPE + "score"])
        headers = {"Authorization": f"bearer {token}"}
    elif headers == "wrong scope":
        headers = bearer(devplatform, SCOPE + "result.readonly")
    response = post_score(web, devplatform, score(), headers=headers or {"X-None": "1"})
    assert response.status_code == 401


def test_line_items_list_filter_create_update_delete(web, devplatform):
    auth = bearer(devplatform, SCOPE + "lineitem")
    created = web.post(LINEITEMS, headers={**auth, "Content-Type": LINEITEM_TYPE}, data=json.dumps(
        {"label": "Reflection", "scoreMaximum": 10, "tag": "reflection", "resourceId": "r-1",
         "resourceLinkId": "1"}))
    assert created.status_code == 201
    item = created.get_json()
    assert item["id"].startswith(devplatform.issuer) and item["id"].endswith("/lineitem?type_id=1")

    listed = web.get(LINEITEMS, headers={**auth, "Accept": CONTAINER_TYPE})
    assert listed.status_code == 200 and listed.mimetype == CONTAINER_TYPE
    assert [i["label"] for i in listed.get_json()] == ["Design Mindset questionnaire", "Reflection"]
    tagged = web.get(LINEITEMS + "&tag=reflection", headers=auth).get_json()
    assert [i["label"] for i in tagged] == ["Reflection"]
    by_resource = web.get(LINEITEMS + "&resource_id=r-1", headers=auth).get_json()
    assert [i["label"] for i in by_resource] == ["Reflection"]
    assert len(web.get(LINEITEMS + "&resource_link_id=1", headers=auth).get_json()) == 2

    path = item["id"].removeprefix(devplatform.issuer)
    updated = web.put(path, headers={**auth, "Content-Type": LINEITEM_TYPE},
                      data=json.dumps({**item, "label": "Reflection (v2)", "scoreMaximum": 20}))
    assert updated.status_code == 200 and updated.get_json()["scoreMaximum"] == 20
    assert web.delete(path, headers=auth).status_code == 204
    assert web.get(path, headers=auth).status_code == 404


def test_line_item_rules(web, devplatform):
    auth = {**bearer(devplatform, SCOPE + "lineitem"), "Content-Type": LINEITEM_TYPE}
    for body in ({"scoreMaximum": 10}, {"label": "x", "scoreMaximum": 0},
                 {"label": "x", "scoreMaximum": 10, "resourceLinkId": "99"}):
        assert web.post(LINEITEMS, headers=auth, data=json.dumps(body)).status_code == 400
    readonly = {**bearer(devplatform, SCOPE + "lineitem.readonly"), "Content-Type": LINEITEM_TYPE}
    body = json.dumps({"label": "x", "scoreMaximum": 1})
    assert web.post(LINEITEMS, headers=readonly, data=body).status_code == 401
    assert web.get(LINEITEMS, headers={**readonly, "Accept": "application/json"}).status_code == 400


def test_results_show_the_current_grade(web, devplatform):
    moment = datetime(2026, 11, 25, 18, 52, 21, 101_000, tzinfo=UTC)
    post_score(web, devplatform, score(when=moment, scoreGiven=87, scoreMaximum=100))
    auth = bearer(devplatform, SCOPE + "result.readonly")

    (result,) = web.get(RESULTS, headers=auth).get_json()

    assert result == {
        "id": f"{devplatform.issuer}{RESULTS}&user_id={LEARNER}",
        "scoreOf": f"{devplatform.issuer}{LINEITEM}",
        "userId": LEARNER, "resultScore": 87, "resultMaximum": 100, "comment": "Well done",
        "timestamp": "2026-11-25T18:52:21+00:00",
    }
    assert web.get(RESULTS + "&user_id=5", headers=auth).get_json() == []


def test_another_courses_line_item_is_not_found(web, devplatform):
    auth = bearer(devplatform, SCOPE + "lineitem.readonly")
    assert web.get("/mod/lti/services.php/9/lineitems/2/lineitem?type_id=1",
                   headers=auth).status_code == 404


@pytest.mark.parametrize(("failure", "status"), [("500", 500), ("422", 422)])
def test_failure_switch_answers_with_its_status(web, devplatform, failure, status):
    devplatform.settings["ags_failure"] = failure
    response = post_score(web, devplatform, score())
    assert response.status_code == status and "error" in response.get_json()
    assert post_score(web, devplatform, score()).status_code == status  # until switched off
    assert devplatform.gradebook()[0]["history"] == []


def test_hang_waits_then_answers_500(web, devplatform):
    devplatform.settings.update(ags_failure="hang", ags_hang_seconds=0.3)
    started = time.monotonic()
    response = post_score(web, devplatform, score())
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 500


def test_401_once_fails_one_call_and_revokes_that_token(web, devplatform):
    devplatform.settings["ags_failure"] = "401_once"
    auth = bearer(devplatform, SCOPE + "score")

    assert post_score(web, devplatform, score(), headers=auth).status_code == 401
    assert devplatform.settings["ags_failure"] is None
    assert post_score(web, devplatform, score(), headers=auth).status_code == 401  # revoked
    assert post_score(web, devplatform, score()).status_code == 200  # a fresh token works
