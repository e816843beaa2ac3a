"""Self-reports as grades: a flagged response's score waits for a mentor in score mode, while
in completion mode it completes as any other (and mentors see the flag)."""

from __future__ import annotations

import re

from tests.gradebook.conftest import launch, submit
from tests.gradebook.test_gradebook_deep_linking import deep_linking_launch

SELF_REPORT = "A score grades a self-report"
# keyed=4 answers 4 to every statement: every page is straight-lined, the response flagged.
FLAGGED = 4


def _scores(driver) -> dict[str, dict]:
    items = [item for item in driver.platform.gradebook() if item["resourceLinkId"] == "1"]
    return {score["userId"]: score for item in items for score in item["scores"]}


def _record_id(mentor, name_status: str) -> str:
    page = mentor.get("/gradebook/").text
    return re.search(rf'<tr class="sync-{name_status}" data-record="(\d+)"', page)[1]


def test_completion_mode_completes_a_flagged_response_and_the_mentor_sees_the_flag(
        driver, learners, mentor, records, deliver):
    submit(driver, learners[0]["id"], keyed=FLAGGED)
    assert deliver().sent == 1
    [record] = records()
    assert record["status"] == "sent" and record["quality_flagged"] is True
    assert _scores(driver)[learners[0]["id"]]["grade"] == 100
    cohort = mentor.get("/mentor/").text
    assert "response quality flagged" in cohort and "Why flagged" in cohort


def test_score_mode_holds_a_flagged_score_until_the_mentor_sends_it(
        driver, learners, mentor, records, deliver):
    assert mentor.post("/gradebook/settings", {"grade_mode": "score"}).status_code == 303
    submit(driver, learners[0]["id"], keyed=6)
    submit(driver, learners[1]["id"], keyed=FLAGGED)

    report = deliver()
    assert report.sent == 1 and report.handled == 1
    assert [r["status"] for r in records()] == ["sent", "held"]
    assert learners[1]["id"] not in _scores(driver)
    # Still held after any number of passes, however late.
    assert deliver().handled == 0

    page = mentor.get("/gradebook/").text
    assert "1 score is held for your review" in page and "Held for review" in page
    assert "Send the score" in page and "Keep it withheld" in page
    cohort = mentor.get("/mentor/").text
    assert "Held for review" in cohort
    assert "1 score is held for your review" in mentor.get("/gradebook/settings").text

    released = mentor.post(f"/gradebook/records/{_record_id(mentor, 'held')}/release")
    assert released.status_code == 303 and "released=" in released.headers["Location"]
    assert deliver().sent == 1
    assert [r["status"] for r in records()] == ["sent", "sent"]
    assert learners[1]["id"] in _scores(driver)


def test_a_mentor_may_keep_a_held_score_withheld_and_release_it_later(
        driver, learners, mentor, records, deliver):
    mentor.post("/gradebook/settings", {"grade_mode": "score"})
    submit(driver, learners[0]["id"], keyed=FLAGGED)
    record_id = _record_id(mentor, "held")
    kept = mentor.post(f"/gradebook/records/{record_id}/withhold")
    assert kept.status_code == 303
    assert deliver().handled == 0
    assert records()[0]["status"] == "withheld" and _scores(driver) == {}
    page = mentor.get("/gradebook/").text
    assert "Withheld" in page and "Keep it withheld" not in page
    # Withholding twice is refused; releasing is still possible.
    assert mentor.post(f"/gradebook/records/{record_id}/withhold").status_code == 409
    assert mentor.post(f"/gradebook/records/{record_id}/release").status_code == 303
    assert deliver().sent == 1


def test_switching_to_score_mode_holds_the_flagged_scores_and_back_sends_them(
        driver, learners, mentor, records, deliver):
    submit(driver, learners[0]["id"], keyed=6)
    submit(driver, learners[1]["id"], keyed=FLAGGED)
    assert deliver().sent == 2
    mentor.post("/gradebook/settings", {"grade_mode": "score"})
    assert [r["status"] for r in records()][2:] == ["pending", "held"]
    assert deliver().sent == 1
    mentor.post("/gradebook/settings", {"grade_mode": "completion"})
    assert [r["status"] for r in records()][4:] == ["pending", "pending"]
    assert deliver().sent == 2


def test_only_a_mentor_of_the_activity_reviews_a_held_score(
        driver, learners, instructor, mentor, records, deliver, new_activity):
    mentor.post("/gradebook/settings", {"grade_mode": "score"})
    submit(driver, learners[0]["id"], keyed=FLAGGED)
    submit(driver, learners[1]["id"], keyed=6)
    held = _record_id(mentor, "held")
    learner = launch(driver, learners[0]["id"])
    assert learner.post(f"/gradebook/records/{held}/release").status_code == 403
    assert mentor.post("/gradebook/records/99999/release").status_code == 404
    deliver()
    sent = _record_id(mentor, "sent")
    assert mentor.post(f"/gradebook/records/{sent}/release").status_code == 409
    assert mentor.post(f"/gradebook/records/{sent}/withhold").status_code == 409
    other = launch(driver, instructor["id"], resource_link_id=new_activity())
    assert other.post(f"/gradebook/records/{held}/release").status_code == 404
    assert records()[0]["status"] == "held"


def test_the_mentor_is_warned_that_a_score_grades_a_self_report(driver, instructor, mentor):
    picker = deep_linking_launch(driver, instructor)
    page = picker.get(picker.landing_url).text
    assert SELF_REPORT in page and 'aria-describedby="self-report-warning"' in page
    settings = mentor.get("/gradebook/settings").text
    assert SELF_REPORT in settings and "This activity grades a self-report" not in settings
    mentor.post("/gradebook/settings", {"grade_mode": "score"})
    assert "This activity grades a self-report" in mentor.get("/gradebook/settings").text
