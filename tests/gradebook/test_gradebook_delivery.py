"""Scores reach the development platform's gradebook through AGS, and are never lost or doubled.

Every test launches through the platform, submits through the tool's pages, and runs the
delivery pass `flask grades sync` runs; what counts is what the platform's gradebook shows.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.gradebook.models import GradeMode
from lti_tool.gradebook.sync import score_comment
from lti_tool.identity.models import Person, ResourceLink, utcnow
from lti_tool.lti import services
from tests.conftest import PROFILES
from tests.gradebook.conftest import item_of, launch, submit


@pytest.mark.parametrize("profile", PROFILES)
def test_a_submission_reaches_the_gradebook_with_full_marks(driver, learners, deliver, records):
    learner = learners[0]
    submit(driver, learner["id"])
    # Nothing is sent inside the learner's request: the score waits in the outbox.
    assert item_of(driver.platform)["history"] == []
    [record] = records()
    assert record["status"] == "pending" and record["grade_mode"] == "completion"

    report = deliver()

    assert (report.sent, report.handled) == (1, 1)
    item = item_of(driver.platform)
    [score] = item["scores"]
    assert score["userId"] == learner["id"]
    assert score["grade"] == 100 and score["scoreGiven"] == 100 and score["scoreMaximum"] == 100
    assert score["gradingProgress"] == "FullyGraded" and score["activityProgress"] == "Completed"
    assert score["comment"] == "Design Mindset questionnaire completed."
    assert len(item["history"]) == 1
    [record] = records()
    assert record["status"] == "sent" and record["sent_dt"] is not None
    assert record["lineitem_url"] == item["url"]
    # The timestamp sent is the record's own, with fractional seconds and a zone.
    assert score["timestamp"].endswith("+00:00") and "." in score["timestamp"]


def test_score_mode_sends_the_overall_index_as_a_share_of_the_maximum(
    driver, learners, mentor, deliver, overall_of
):
    saved = mentor.post("/gradebook/settings", {"grade_mode": "score"})
    assert saved.status_code == 303
    submit(driver, learners[0]["id"], keyed=6)
    submit(driver, learners[1]["id"], keyed=3)

    assert deliver().sent == 2

    scores = {score["userId"]: score for score in item_of(driver.platform)["scores"]}
    for learner in learners[:2]:
        overall = overall_of(learner["id"])
        assert scores[learner["id"]]["grade"] == pytest.approx(overall * 10, abs=0.01)
        assert f"{display(overall)} of 10" in scores[learner["id"]]["comment"]
    assert scores[learners[0]["id"]]["grade"] > scores[learners[1]["id"]]["grade"]


def test_the_comment_rounds_the_index_as_the_pages_do():
    # 6.25 is "6.3" on the results page; binary half-to-even formatting would send "6.2".
    assert score_comment(GradeMode.SCORE, 6.25) == "Design Mindset overall index 6.3 of 10."
    assert score_comment(GradeMode.COMPLETION, 6.25) == "Design Mindset questionnaire completed."


def test_a_second_submit_records_no_second_score(driver, learners, records, deliver):
    browser = submit(driver, learners[0]["id"])
    results = browser.get("/questionnaire/").text
    attempt_id = re.search(r"/attempts/(\d+)/results", results)[1]
    # The learner's browser posts the last page again (a double click, the back button).
    again = browser.post(f"/questionnaire/attempts/{attempt_id}/pages/3", {"go": "submit"})
    assert again.status_code in (303, 409)
    assert len(records()) == 1
    assert deliver().sent == 1
    assert len(item_of(driver.platform)["history"]) == 1


def test_an_outage_then_recovery_delivers_every_score_exactly_once(
    driver, learners, deliver, records
):
    for learner in learners[:3]:
        submit(driver, learner["id"])
    driver.platform.settings["ags_failure"] = "500"

    now = utcnow()
    for hour in range(4):
        report = deliver(now + timedelta(hours=hour))
        assert report.retrying == 3 and report.sent == 0
    assert item_of(driver.platform)["history"] == []
    for record in records():
        assert record["status"] == "pending" and record["attempts"] == 4
        assert "HTTP 500" in record["last_error"]
        # Backoff: the fourth try waits between 2 and 4 minutes (30 s · 2³, half jittered).
        wait = record["next_try_dt"] - (now + timedelta(hours=3))
        assert timedelta(minutes=2) <= wait <= timedelta(minutes=4)

    driver.platform.settings["ags_failure"] = None
    assert deliver(now + timedelta(hours=4)).sent == 3
    assert deliver(now + timedelta(hours=5)).handled == 0

    item = item_of(driver.platform)
    assert sorted(s["userId"] for s in item["scores"]) == sorted(u["id"] for u in learners[:3])
    assert sorted(s["userId"] for s in item["history"]) == sorted(u["id"] for u in learners[:3])
    assert all(r["status"] == "sent" and r["attempts"] == 5 for r in records())


def test_a_crash_after_the_platform_accepted_loses_and_doubles_nothing(
    driver, learners, deliver, records, monkeypatch, caplog
):
    submit(driver, learners[0]["id"])
    real_post = services.ServiceClient.send_score

    def post_then_die(self, url, score, token):
        real_post(self, url, score, token)
        raise KeyboardInterrupt("the worker is killed before it commits")

    monkeypatch.setattr(services.ServiceClient, "send_score", post_then_die)
    with pytest.raises(KeyboardInterrupt):
        deliver()
    [record] = records()
    assert record["status"] == "pending" and record["attempts"] == 0
    assert len(item_of(driver.platform)["history"]) == 1

    monkeypatch.setattr(services.ServiceClient, "send_score", real_post)
    # The next pass sends the same timestamp again: the platform answers 409, it has it.
    caplog.set_level("INFO", logger="lti_tool.gradebook")
    assert deliver().sent == 1
    [record] = records()
    assert record["status"] == "sent"
    [booked] = [r.getMessage() for r in caplog.records
                if r.name == "lti_tool.gradebook.sync" and "409" in r.getMessage()]
    assert booked.startswith(f"score {record['id']}: 409, the platform has it already: HTTP 409")
    item = item_of(driver.platform)
    assert len(item["history"]) == 1 and len(item["scores"]) == 1


def test_a_crash_in_the_middle_of_a_batch_loses_and_doubles_nothing(
    driver, learners, deliver, records, monkeypatch
):
    """Scores go out several at once and are booked with one commit per batch: a worker
    killed after the platform took some of them leaves all pending, and the next pass
    books each exactly once (the platform's 409 for those it holds)."""
    for learner in learners[:4]:
        submit(driver, learner["id"])
    real_post = services.ServiceClient.send_score
    accepted = []

    def die_after_the_second(self, url, score, token):
        real_post(self, url, score, token)
        accepted.append(score["userId"])
        if len(accepted) == 2:
            raise KeyboardInterrupt("the worker is killed before it commits")

    monkeypatch.setattr(services.ServiceClient, "send_score", die_after_the_second)
    with pytest.raises(KeyboardInterrupt):
        deliver()
    assert all(r["status"] == "pending" and r["attempts"] == 0 for r in records())
    held = len(item_of(driver.platform)["history"])
    assert 2 <= held <= 4

    monkeypatch.setattr(services.ServiceClient, "send_score", real_post)
    assert deliver().sent == 4
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in records())
    item = item_of(driver.platform)
    expected = sorted(u["id"] for u in learners[:4])
    assert sorted(s["userId"] for s in item["history"]) == expected
    assert sorted(s["userId"] for s in item["scores"]) == expected


def test_a_refusal_fails_at_once_with_the_reason_shown_and_retry_works(
    driver, learners, mentor, deliver, records
):
    submit(driver, learners[0]["id"])
    driver.platform.settings["ags_failure"] = "422"

    report = deliver()

    assert report.failed == 1
    [record] = records()
    assert record["status"] == "failed" and record["attempts"] == 1
    page = mentor.get("/gradebook/")
    assert page.status_code == 200
    assert "Failed" in page.text and "HTTP 422" in page.text
    assert "simulated rejection (ags_failure=422)" in page.text
    assert "Try again" in page.text
    # A failed score is not tried again by itself.
    assert deliver(utcnow() + timedelta(days=3)).handled == 0

    driver.platform.settings["ags_failure"] = None
    retried = mentor.post(f"/gradebook/records/{record['id']}/retry")
    assert retried.status_code == 303
    [record] = records()
    assert record["status"] == "pending" and record["attempts"] == 0
    assert deliver().sent == 1

    page = mentor.get("/gradebook/")
    assert "Sent" in page.text and "Try again" not in page.text
    assert len(item_of(driver.platform)["scores"]) == 1


def test_a_401_refreshes_the_token_once_and_the_score_goes_through(
    driver, learners, deliver, records
):
    submit(driver, learners[0]["id"])
    assert deliver().sent == 1  # the score token is now cached
    submit(driver, learners[1]["id"])
    driver.platform.settings["ags_failure"] = "401_once"

    assert deliver().sent == 1

    assert driver.platform.settings["ags_failure"] is None  # the 401 did happen
    assert len(item_of(driver.platform)["history"]) == 2
    assert [r["attempts"] for r in records()] == [1, 1]


def test_a_hang_past_the_timeout_is_tried_again_later(
    app, driver, learners, deliver, records, monkeypatch
):
    submit(driver, learners[0]["id"])
    monkeypatch.setitem(app.config, "HTTP_TIMEOUT_SECONDS", 0.5)
    driver.platform.settings.update(ags_failure="hang", ags_hang_seconds=2)

    now = utcnow()
    assert deliver(now).retrying == 1

    [record] = records()
    assert record["status"] == "pending" and record["attempts"] == 1
    assert "No answer" in record["last_error"] and "timed out" in record["last_error"].lower()
    assert timedelta(seconds=15) <= record["next_try_dt"] - now <= timedelta(seconds=30)
    driver.platform.settings["ags_failure"] = None
    assert deliver(now).handled == 0  # not due yet
    assert deliver(record["next_try_dt"]).sent == 1
    assert len(item_of(driver.platform)["history"]) == 1


def test_retries_stop_after_the_retry_period(app, driver, learners, deliver, records):
    submit(driver, learners[0]["id"])
    driver.platform.settings["ags_failure"] = "500"
    now = utcnow()
    assert deliver(now).retrying == 1
    report = deliver(now + timedelta(hours=app.config["GRADE_RETRY_HOURS"]))
    assert report.failed == 1
    [record] = records()
    assert record["status"] == "failed"
    assert record["last_error"].startswith("Gave up after 2 tries over 48 hours: HTTP 500")


def test_only_the_newest_score_of_a_learner_is_sent(app, driver, learners, mentor, deliver,
                                                    records, caplog):
    learner = learners[0]
    submit(driver, learner["id"])
    # A retake is recorded while the first score still waits (the LMS was down).
    retake = mentor.post("/questionnaire/retakes", {"person_id": _person_id(app, learner["id"])})
    assert retake.status_code == 200
    submit(driver, learner["id"], keyed=2)
    first, second = records()
    # Within one second the second timestamp is pushed one second on: Moodle keeps seconds.
    assert second["score_dt"].replace(microsecond=0) > first["score_dt"].replace(microsecond=0)

    caplog.set_level("INFO", logger="lti_tool.gradebook")
    report = deliver()

    assert (report.superseded, report.sent) == (1, 1)
    first, second = records()
    assert first["status"] == "superseded" and second["status"] == "sent"
    assert len(item_of(driver.platform)["history"]) == 1
    assert [r.getMessage() for r in caplog.records if "superseded" in r.getMessage()] == [
        f"score {first['id']} superseded by a newer one"]


def test_changing_the_mode_sends_the_scores_again(driver, learners, mentor, deliver, records,
                                                  overall_of):
    learner = learners[0]
    submit(driver, learner["id"])
    deliver()
    assert item_of(driver.platform)["scores"][0]["grade"] == 100

    saved = mentor.post("/gradebook/settings", {"grade_mode": "score"})
    assert saved.status_code == 303
    assert "again=1" in saved.headers["Location"]
    assert deliver().sent == 1

    item = item_of(driver.platform)
    assert item["scores"][0]["grade"] == pytest.approx(overall_of(learner["id"]) * 10, abs=0.01)
    assert len(item["history"]) == 2
    assert [r["grade_mode"] for r in records()] == ["completion", "score"]


def test_without_a_lineitem_claim_the_item_is_found_by_resource_link(
    app, driver, learners, deliver
):
    submit(driver, learners[0]["id"])
    with app.app_context():
        # As Moodle does when an activity has several grade items: no `lineitem` claim.
        db.session.execute(update(ResourceLink).values(ags_lineitem=None))
        db.session.commit()
    assert deliver().sent == 1
    item = item_of(driver.platform)
    assert len(item["scores"]) == 1
    # The item found is remembered for the activity, with its maximum: no search next time.
    with app.app_context():
        from lti_tool.gradebook.models import GradeSettings

        settings = db.session.scalar(select(GradeSettings))
        assert settings.lineitem_url == item["url"]
        assert settings.score_maximum == item["scoreMaximum"]
        assert settings.lineitem_problem is None


def test_an_activity_without_a_grade_item_gets_one(driver, learners, deliver, new_activity,
                                                    records):
    activity = new_activity()
    submit(driver, learners[0]["id"], resource_link_id=activity)

    assert deliver().sent == 1

    item = item_of(driver.platform, activity)
    assert item["label"] == "Design Mindset" and item["scoreMaximum"] == 100
    assert item["tag"] == "design-mindset"
    assert [s["userId"] for s in item["scores"]] == [learners[0]["id"]]
    # The next learner's score goes to the same item: it is not created twice.
    submit(driver, learners[1]["id"], resource_link_id=activity)
    assert deliver().sent == 1
    assert len(item_of(driver.platform, activity)["scores"]) == 2
    assert records()[0]["lineitem_url"] == item["url"]


@pytest.mark.parametrize("mode, reason", [
    ("grade_sync", "did not grant the tool the right to create one"),
    ("off", "does not offer the grade service (AGS)"),
])
def test_when_no_grade_item_can_be_had_mentors_are_told_why(
    driver, learners, instructor, deliver, records, new_activity, mode, reason
):
    activity = new_activity()
    driver.platform.settings["ags_mode"] = mode
    submit(driver, learners[0]["id"], resource_link_id=activity)

    assert deliver().failed == 1

    [record] = records()
    assert record["status"] == "failed" and reason in record["last_error"]
    mentor = launch(driver, instructor["id"], resource_link_id=activity)
    for path in ("/gradebook/", "/gradebook/settings"):
        page = mentor.get(path)
        assert page.status_code == 200
        assert "Grades cannot reach the LMS" in page.text and reason in page.text


def _person_id(app, sub: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Person.id).where(Person.sub == sub))


@pytest.mark.parametrize("profile", ["canvas"])
def test_from_canvas_course_navigation_scores_land_in_a_column_of_their_own(
    driver, learners, deliver, records, platform
):
    # The course navigation link is not an assignment: Canvas refuses a line item on it (404)
    # and the tool makes a course column instead, once, found again by its resourceId.
    for learner in learners[:2]:
        submit(driver, learner["id"], resource_link_id=None, placement="course_navigation")
    assert deliver().sent == 2
    [column] = [item for item in platform.gradebook() if item["label"] == "Design Mindset"]
    assert column["resourceLinkId"] == "" and column["tag"] == "design-mindset"
    assert sorted(s["userId"] for s in column["scores"]) == sorted(u["id"] for u in learners[:2])
    assert {r["status"].value for r in records()} == {"sent"}


def _logged(caplog, level: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "lti_tool.gradebook.sync" and r.levelname == level]


def test_each_failed_try_counts_and_is_logged_for_the_operator(
    driver, learners, deliver, records, caplog
):
    """A 500 is retried later (try 1, logged with the next time), then a refusal fails the
    score at try 2: the operator's log names the score, the try and the platform's reason."""
    caplog.set_level("INFO", logger="lti_tool.gradebook.sync")
    submit(driver, learners[0]["id"])
    driver.platform.settings["ags_failure"] = "500"
    now = utcnow()
    assert deliver(now).retrying == 1
    [record] = records()
    [retry_line] = [m for m in _logged(caplog, "INFO") if "try" in m]
    assert retry_line == (f"score {record['id']}: try 1 failed ({record['last_error']}); "
                          f"next at {record['next_try_dt']}")

    driver.platform.settings["ags_failure"] = "422"
    assert deliver(record["next_try_dt"]).failed == 1
    [record] = records()
    assert record["status"] == "failed" and record["attempts"] == 2
    assert _logged(caplog, "WARNING") == [
        f"score {record['id']} failed: {record['last_error']}"]
    assert "HTTP 422" in record["last_error"]


def test_retries_stop_exactly_at_the_end_of_the_retry_period(
    app, driver, learners, deliver, records, caplog
):
    caplog.set_level("INFO", logger="lti_tool.gradebook.sync")
    submit(driver, learners[0]["id"])
    driver.platform.settings["ags_failure"] = "500"
    now = utcnow()
    with app.app_context():
        from lti_tool.gradebook.models import ScoreRecord

        db.session.execute(update(ScoreRecord).values(pending_since_dt=now))
        db.session.commit()
    period = timedelta(hours=app.config["GRADE_RETRY_HOURS"])
    assert deliver(now).retrying == 1
    # Pending for exactly the retry period: that try is the last.
    report = deliver(now + period)
    assert report.failed == 1
    [record] = records()
    assert record["status"] == "failed" and record["attempts"] == 2
    assert _logged(caplog, "WARNING") == [f"score {record['id']}: {record['last_error']}"]


def test_a_failure_inside_the_tool_keeps_the_scores_for_a_later_try(
    app, driver, learners, deliver, records, monkeypatch, caplog
):
    """Not the platform's answer but the tool's own bug or a database hiccup while sending:
    every score of the batch stays pending, the try is counted and the next one scheduled."""
    from lti_tool.gradebook import sync

    caplog.set_level("INFO", logger="lti_tool.gradebook.sync")
    for learner in learners[:2]:
        submit(driver, learner["id"])
    real_apply = sync._apply

    def broken(delivery, now):
        raise RuntimeError("the tool broke")

    monkeypatch.setattr(sync, "_apply", broken)
    now = utcnow()
    report = deliver(now)
    assert (report.retrying, report.sent, report.failed) == (2, 0, 0)
    for record in records():
        assert record["status"] == "pending" and record["attempts"] == 1
        assert record["last_error"] == "The tool failed while sending: the tool broke"
        assert timedelta(seconds=15) <= record["next_try_dt"] - now <= timedelta(seconds=30)
    failed_ids = sorted(r["id"] for r in records())
    assert f"delivering scores {failed_ids} failed inside the tool" in [
        r.getMessage() for r in caplog.records]

    monkeypatch.setattr(sync, "_apply", broken)
    submit(driver, learners[2]["id"])
    with app.app_context():
        [(record_id, status)] = sync.deliver_batch(now + timedelta(minutes=5), 1)
        assert status is sync.ScoreStatus.PENDING
    monkeypatch.setattr(sync, "_apply", real_apply)
    assert deliver(now).handled == 0  # not due yet
    assert deliver(now + timedelta(minutes=10)).sent == 3
    # The platform took them in the broken pass: its 409 makes them sent, once each.
    assert len(item_of(driver.platform)["scores"]) == 3
    assert all(r["last_error"] is None for r in records())
    sent_lines = [r.getMessage() for r in caplog.records if " sent to " in r.getMessage()]
    url = item_of(driver.platform)["url"]
    assert sorted(sent_lines) == sorted(f"score {r['id']} sent to {url}" for r in records())


def test_postponing_leaves_a_score_another_worker_has_finished(app, driver, learners, deliver,
                                                               records):
    from lti_tool.gradebook import sync
    from lti_tool.gradebook.models import ScoreStatus

    submit(driver, learners[0]["id"])
    assert deliver().sent == 1
    [record] = records()
    with app.app_context():
        assert sync._postpone(record["id"], "late", utcnow()) is ScoreStatus.SENT
        assert sync._postpone(10**9, "gone", utcnow()) is ScoreStatus.PENDING
    [after] = records()
    assert after == record


def test_a_batch_claims_the_longest_waiting_due_scores_first_up_to_its_size(
    app, driver, learners, records
):
    from lti_tool.gradebook import sync
    from lti_tool.gradebook.models import ScoreRecord, ScoreStatus

    for learner in learners[:4]:
        submit(driver, learner["id"])
    now = utcnow()
    ids = [r["id"] for r in records()]
    # Due in the reverse order of their ids; the last one is not due yet.
    waits = {ids[0]: 1, ids[1]: 2, ids[2]: 3, ids[3]: -60}
    with app.app_context():
        for record_id, minutes_ago in waits.items():
            db.session.execute(update(ScoreRecord).where(ScoreRecord.id == record_id)
                               .values(next_try_dt=now - timedelta(minutes=minutes_ago)))
        db.session.commit()
        first = sync.deliver_batch(now, 1)
        skipped = sync.deliver_batch(now, 1, skip={ids[1]})
        rest = sync.deliver_batch(now, 5)
        nothing = sync.deliver_batch(now, 5)
    assert first == [(ids[2], ScoreStatus.SENT)]
    assert skipped == [(ids[0], ScoreStatus.SENT)]
    assert rest == [(ids[1], ScoreStatus.SENT)] and nothing == []
    assert [r["status"] for r in records()] == ["sent", "sent", "sent", "pending"]


def test_when_the_platform_gives_no_access_token_every_score_waits_with_the_reason(
    driver, learners, deliver, records, monkeypatch
):
    for learner in learners[:2]:
        submit(driver, learner["id"])
    asked = []
    real_token = services.ServiceClient.access_token

    def no_token(self, scopes):
        if scopes != [services.SCOPE_SCORE]:
            return real_token(self, scopes)  # the line item is found as usual
        asked.append(scopes)
        raise services.PlatformServiceError("token refused", status=503, body="busy")

    monkeypatch.setattr(services.ServiceClient, "access_token", no_token)
    report = deliver()
    assert (report.retrying, report.sent) == (2, 0)
    assert len(asked) == 1  # one token request per platform and batch
    assert all(r["status"] == "pending" and r["last_error"] == "HTTP 503: busy"
               for r in records())
    assert item_of(driver.platform)["history"] == []


def test_a_learners_scores_in_two_activities_are_both_sent(driver, learners, deliver,
                                                           new_activity, records):
    """Only a newer score in the *same* activity supersedes one: two activities, two
    gradebook columns, both sent in one pass."""
    activity = new_activity()
    submit(driver, learners[0]["id"])
    submit(driver, learners[0]["id"], resource_link_id=activity)
    report = deliver()
    assert (report.sent, report.superseded) == (2, 0)
    assert [s["userId"] for s in item_of(driver.platform)["scores"]] == [learners[0]["id"]]
    assert [s["userId"] for s in item_of(driver.platform, activity)["scores"]] == [
        learners[0]["id"]]


def test_a_score_refused_again_after_a_fresh_token_is_not_booked_as_sent(
    driver, learners, deliver, records, monkeypatch
):
    submit(driver, learners[0]["id"])

    def expired(self, url, score, token):
        raise services.PlatformServiceError("expired", status=401, body="token expired")

    def refused(self, url, score):
        raise services.PlatformServiceError("refused", status=403, body="not allowed")

    monkeypatch.setattr(services.ServiceClient, "send_score", expired)
    monkeypatch.setattr(services.ServiceClient, "post_score", refused)
    assert deliver().failed == 1
    [record] = records()
    assert record["status"] == "failed" and record["last_error"] == "HTTP 403: not allowed"


@pytest.mark.parametrize("limit, batches", [(3, [2, 1]), (4, [2, 2]), (1, [1])])
def test_grades_sync_with_a_limit_delivers_exactly_that_many_in_batches(
    app, driver, learners, records, monkeypatch, limit, batches
):
    from lti_tool.gradebook import sync

    for learner in learners[:5]:
        submit(driver, learner["id"])
    monkeypatch.setattr(sync, "BATCH_SIZE", 2)
    claimed = []
    real_claim = sync._claim

    def claim(now, skip, size):
        found = real_claim(now, skip, size)
        claimed.append(len(found))
        return found

    monkeypatch.setattr(sync, "_claim", claim)
    result = app.test_cli_runner().invoke(args=["grades", "sync", "--limit", str(limit)])

    assert result.exit_code == 0, result.output
    assert result.output == (f"{limit} score(s): {limit} sent, 0 to retry later, 0 failed, "
                             "0 superseded.\n")
    assert claimed == batches  # at most BATCH_SIZE a batch, the last one cut to the limit
    statuses = [r["status"] for r in records()]
    assert statuses == ["sent"] * limit + ["pending"] * (5 - limit)
    assert len(item_of(driver.platform)["history"]) == limit


def test_a_known_line_item_is_not_asked_for_again(driver, learners, deliver, monkeypatch):
    # The first pass reads the launch's line item (its maximum); later passes reuse it.
    asked = []
    real_call = services.ServiceClient.call

    def call(self, method, url, *args, **kwargs):
        asked.append((method, url))
        return real_call(self, method, url, *args, **kwargs)

    monkeypatch.setattr(services.ServiceClient, "call", call)
    submit(driver, learners[0]["id"])
    assert deliver().sent == 1
    item = item_of(driver.platform)
    assert [(method, url) for method, url in asked if method == "GET"] == [("GET", item["url"])]

    asked.clear()
    submit(driver, learners[1]["id"])
    assert deliver().sent == 1
    assert [method for method, _ in asked if method == "GET"] == []
    assert len(item_of(driver.platform)["scores"]) == 2
