"""Attempts keep their instrument version: a version 1 attempt reads the same after version 2
became current, and new attempts start with version 2."""

from __future__ import annotations

import re

import requests
from markupsafe import escape

from lti_tool.extensions import db
from lti_tool.questionnaire import versions
from lti_tool.questionnaire.models import Attempt
from lti_tool.questionnaire.versions import get_instrument
from tests.questionnaire.test_views import Learner

V1 = get_instrument("design_mindset", 1)


def _v1_answers() -> dict[str, int]:
    """Careful answers with a clear profile, and check1 failed: a flagged response."""
    answers = {}
    for item in V1.items:
        if item.is_attention_check:
            answers[item.id] = item.attention_check_expected
        else:
            keyed = 7 if item.dimension_id == "empathy" else 1 if item.dimension_id == (
                "optimism") else 5
            answers[item.id] = 8 - keyed if item.reverse else keyed
    answers["check1"] = 6
    return answers


def _submit_v1(learner: Learner) -> int:
    attempt_id = learner.begin()
    pages = V1.pages()
    answers = _v1_answers()
    for index, items in enumerate(pages):
        go = "submit" if index == len(pages) - 1 else "next"
        response = learner.post_page(index, {item.id: answers[item.id] for item in items}, go,
                                     seconds=60)
        assert response.status_code == 303, response.text
    return attempt_id


def _in_polish(claims, header):
    claims["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"]["locale"] = "pl"


def _as_read(response: requests.Response) -> str:
    """The page without what changes from one request to the next (tokens, nonces)."""
    assert response.status_code == 200, response.text
    html = re.sub(r"(lt=|name=\"lt\" value=\"|data-launch-token=\"|name=\"launch-token\" "
                  r"content=\")[^\"&]+", r"\1…", response.text)
    return re.sub(r"nonce=\"[^\"]+\"", 'nonce="…"', html)


def test_a_version_1_attempt_reads_the_same_after_version_2_became_current(
        app, driver, monkeypatch):
    monkeypatch.setattr(versions, "CURRENT_INSTRUMENT_VERSION", 1)
    learner = Learner(driver)
    attempt_id = _submit_v1(learner)
    mentor = Learner.__new__(Learner)
    mentor.driver, mentor.user = driver, driver.user("Instructor")
    mentor.relaunch()
    polish = Learner.__new__(Learner)
    polish.driver, polish.user = driver, learner.user
    polish.launch = driver.launch(learner.user["id"], mutate=_in_polish)
    polish.token = polish.launch.token
    results = f"/questionnaire/attempts/{attempt_id}/results"
    with app.app_context():
        learner_page = f"/mentor/learners/{db.session.get(Attempt, attempt_id).person_id}"

    def everything() -> dict[str, str]:
        return {
            "results": _as_read(learner.get(results)),
            "results in Polish": _as_read(polish.get(results)),
            "cohort": _as_read(mentor.get("/mentor/")),
            "learner page": _as_read(mentor.get(learner_page)),
            "csv": mentor.get("/mentor/export.csv").text,
        }

    before = everything()
    assert "Attention check check1 asked for 3 (Somewhat disagree)" in before["results"]
    assert "Pytanie kontrolne check1" in before["results in Polish"]
    assert str(escape(V1.item("col3").text.get("en"))) in before["learner page"]

    monkeypatch.setattr(versions, "CURRENT_INSTRUMENT_VERSION", 2)
    after = everything()
    for name, page in before.items():
        assert after[name] == page, name
    # Cohort statistics are per version: the version 1 response is named as left out.
    statistics = mentor.get("/mentor/statistics").text
    assert "1 submitted response was left out: answered with another version" in statistics

    # A retake starts with version 2: its statements are version 2's.
    other = Learner(driver, 1)
    other.begin()
    first_page = other.get(other.page_path(0)).text
    assert str(escape(get_instrument("design_mindset", 2).item("col3").text.get("en"))) in (
        first_page)
    assert str(escape(V1.item("col3").text.get("en"))) not in first_page
