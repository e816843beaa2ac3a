"""The delivery's pure rules: retry waits, scores on the line item's own maximum, and the
platform's answers explained to mentors."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from lti_tool.gradebook import sync
from lti_tool.gradebook.lineitems import LineItemTarget
from lti_tool.lti.services import PlatformServiceError


@pytest.mark.parametrize(("attempts", "ceiling"), [
    (0, 30), (1, 30), (2, 60), (4, 240), (7, 1920), (8, 3600), (30, 3600)])
def test_the_wait_before_the_next_try_doubles_within_half_jitter_up_to_an_hour(
    monkeypatch, attempts, ceiling
):
    monkeypatch.setattr(sync.random, "uniform", lambda low, high: low)
    assert sync.backoff(attempts) == timedelta(seconds=ceiling / 2)
    monkeypatch.setattr(sync.random, "uniform", lambda low, high: high)
    assert sync.backoff(attempts) == timedelta(seconds=ceiling)


def _record(given: float, maximum: float):
    return SimpleNamespace(score_given=given, score_maximum=maximum)


@pytest.mark.parametrize(("line_item_maximum", "sent"), [
    (None, (7.5, 10.0)),   # the tool may not read the line item: its own scale
    (0, (7.5, 10.0)),      # a line item without a maximum: the same
    (10.0, (7.5, 10.0)),   # the same maximum: unchanged
    (50.0, (37.5, 50.0)),  # Canvas's assignment out of 50 points
    (3.0, (2.25, 3.0)),
    (7.0, (5.25, 7.0)),
    (9.0, (6.75, 9.0)),
    (11.0, (8.25, 11.0)),
    (12.0, (9.0, 12.0)),
    (6.0, (4.5, 6.0)),
])
def test_a_score_is_sent_on_the_line_items_own_maximum(line_item_maximum, sent):
    target = LineItemTarget(url="https://lms.example/lineitem/1", maximum=line_item_maximum)
    assert sync._scaled(_record(7.5, 10.0), target) == sent


def test_a_scaled_score_is_rounded_to_two_places():
    target = LineItemTarget(url="https://lms.example/lineitem/1", maximum=1.0)
    assert sync._scaled(_record(2.0, 3.0), target) == (0.67, 1.0)


@pytest.mark.parametrize(("status", "body", "reason"), [
    (400, " [] ", "HTTP 400: [] (Moodle's answer when the person is not a learner in the "
                  "course)"),
    (400, "bad grade", "HTTP 400: bad grade"),
    (404, "[]", "HTTP 404: []"),
    (401, "expired", "HTTP 401: expired (the platform refused the tool's access token even "
                     "after a fresh one)"),
    (403, "no", "HTTP 403: no"),
    (422, "", "HTTP 422: (empty answer)"),
    (None, "", "No answer from the platform"),
])
def test_the_platforms_answer_is_explained_to_mentors(status, body, reason):
    error = PlatformServiceError("No answer from the platform", status=status, body=body)
    assert sync.explain(error) == reason
