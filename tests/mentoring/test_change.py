"""Change over time: two attempts compared for the learner and the mentor, and the course view.

Hand-worked figures: with the provisional r = 0.70 and SD = 1.6, SEM = 0.876356 and the
error of a difference S_diff = √2 × 0.876356 = 1.239354. A keyed answer k scores
1 + 1.5 × (k − 1): keyed 5 → 7.0, 6 → 8.5, every item at the top → 10.0, at the bottom → 1.0.
So +3.0 gives RCI 2.42 (a real increase), −6.0 gives −4.84 (a real decrease), +1.5 gives 1.21
(within the usual variation).
"""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import pytest

from lti_tool.extensions import db
from lti_tool.identity.models import Role
from lti_tool.questionnaire import comparison as comparison_module
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.comparison import compare
from lti_tool.questionnaire.measurement import Change
from tests.mentoring.conftest import INSTRUMENT, careful_answers, leaning_answers


@pytest.fixture
def course(make_activity, make_person, token_for):
    """A course with a mentor (token) and a learner (learner_token)."""
    activity = make_activity(label="DMD 202")
    activity.mentor = make_person(activity, Role.MENTOR)
    activity.learner = make_person(activity, given_name="Lena", family_name="Learner")
    activity.token = token_for(activity, activity.mentor)
    activity.learner_token = token_for(activity, activity.learner, Role.LEARNER)
    return activity


@pytest.fixture
def twice(take, launch_of):
    """A learner takes the questionnaire, the mentor allows a retake, the learner takes it again."""

    def make(activity, person, first, second, seconds: float = 60):
        one = take(activity, person, first, seconds=seconds)
        delivery.allow_retake(launch_of(activity, activity.mentor), person.id)
        db.session.commit()
        two = take(activity, person, second, seconds=seconds)
        return one, two

    return make


def get(client, path, token, **params):
    return client.get(path, query_string={"lt": token, **params})


def row(html: str, name: str) -> list[str]:
    """The cells of the change table's row for one dimension, as text."""
    table = re.search(r'<table class="table table-sm change[^"]*">.*?</table>', html, re.S)
    assert table, "no change table"
    found = re.search(rf'<th scope="row">{name}</th>(.*?)</tr>', table[0], re.S)
    assert found, f"no row for {name}"
    return [unescape(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", found[1], re.S)]


def test_the_change_is_judged_by_the_reliable_change_index(course, twice):
    before, after = twice(course, course.learner, careful_answers(5),
                          leaning_answers(high="empathy", low="optimism", keyed=5))
    view = compare(before, after, "en")
    empathy, optimism = (next(d for d in view.dimensions if d.id == key)
                         for key in ("empathy", "optimism"))
    assert empathy.rci == pytest.approx(3.0 / 1.239354, abs=1e-4)  # 2.4206
    assert (empathy.verdict, empathy.verdict_label) == (Change.INCREASE, "a real increase")
    assert empathy.change_text == "+3.0" and empathy.after_text == "10.0 (±0.9)"
    assert optimism.rci == pytest.approx(-6.0 / 1.239354, abs=1e-4)
    assert (optimism.verdict, optimism.verdict_label) == (Change.DECREASE, "a real decrease")
    assert optimism.change_text == "−6.0"
    others = [d for d in view.dimensions if d.id not in ("empathy", "optimism")]
    assert len(others) == 8 and all(d.verdict is Change.WITHIN and d.rci == 0 for d in others)
    assert others[0].verdict_label == "within the usual variation"
    assert not view.versions_differ and view.not_compared == ()
    assert view.chart_svg.count('class="error-bar"') == 20


def test_a_change_just_under_the_threshold_is_the_usual_variation(course, twice):
    before, after = twice(course, course.learner, careful_answers(5), careful_answers(6))
    view = compare(before, after, "pl")
    assert all(d.rci == pytest.approx(1.5 / 1.239354, abs=1e-4) for d in view.dimensions)
    assert all(d.verdict is Change.WITHIN for d in view.dimensions)
    assert view.dimensions[0].change_text == "+1,5" and view.z_text == "1,96"


def test_attempts_of_two_versions_are_compared_per_dimension(course, twice, monkeypatch):
    before, after = twice(course, course.learner, careful_answers(5),
                          leaning_answers(high="empathy", keyed=5))
    # A later version without the first dimension (its items were rewritten elsewhere).
    later = dataclasses.replace(INSTRUMENT, version=INSTRUMENT.version + 1,
                                dimensions=INSTRUMENT.dimensions[1:])
    monkeypatch.setattr(comparison_module, "instrument_for",
                        lambda attempt: later if attempt.id == after.id else INSTRUMENT)
    view = compare(before, after, "en")
    assert view.versions_differ and (view.before_version, view.after_version) == (
        INSTRUMENT.version, INSTRUMENT.version + 1)
    assert [d.id for d in view.dimensions] == [d.id for d in INSTRUMENT.dimensions[1:]]
    assert view.not_compared == ("Empathy",)


def test_a_learner_with_two_attempts_sees_the_comparison(client, course, twice):
    twice(course, course.learner, careful_answers(5),
          leaning_answers(high="empathy", low="optimism", keyed=5))
    page = get(client, "/questionnaire/comparison", course.learner_token)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Your attempts compared" in html and "Your profile in two attempts" in html
    assert row(html, "Empathy") == ["7.0 (±0.9)", "10.0 (±0.9)", "+3.0", "a real increase"]
    assert row(html, "Optimism to have an impact") == [
        "7.0 (±0.9)", "1.0 (±0.9)", "−6.0", "a real decrease"]
    assert row(html, "Tolerance of uncertainty and risk")[3] == "within the usual variation"


def test_the_results_page_links_to_the_comparison_from_the_second_attempt(client, course, twice):
    first, second = twice(course, course.learner, careful_answers(5), careful_answers(6))
    html = get(client, f"/questionnaire/attempts/{second.id}/results",
               course.learner_token).get_data(as_text=True)
    assert "See how your profile changed" in html and "/questionnaire/comparison" in html


def test_one_attempt_has_nothing_to_compare_and_guessed_ids_find_nothing(client, course, take,
                                                                         make_person, twice):
    mine = take(course, course.learner)
    alone = get(client, "/questionnaire/comparison", course.learner_token)
    assert alone.status_code == 404 and "Nothing to compare yet" in alone.get_data(as_text=True)
    other = make_person(course, given_name="Otto")
    theirs, _ = twice(course, other, careful_answers(5), careful_answers(6))
    # Someone else's attempts cannot be put into one's own comparison.
    assert get(client, "/questionnaire/comparison", course.learner_token, before=theirs.id,
               after=mine.id).status_code == 404
    # Nor does a mentor reach the learner's page.
    assert get(client, "/questionnaire/comparison", course.token).status_code == 403


def test_the_mentor_sees_the_comparison_on_the_learner_page(client, course, twice,
                                                            make_activity, make_person,
                                                            token_for):
    twice(course, course.learner, careful_answers(5),
          leaning_answers(high="empathy", low="optimism", keyed=5))
    html = get(client, f"/mentor/learners/{course.learner.id}", course.token).get_data(
        as_text=True)
    assert "Change over time" in html and "Lena Learner: profile in two attempts" in html
    assert row(html, "Empathy") == ["7.0 (±0.9)", "10.0 (±0.9)", "+3.0", "a real increase"]
    # Another course's mentor finds no such learner.
    elsewhere = make_activity(label="OTHER")
    stranger = token_for(elsewhere, make_person(elsewhere, Role.MENTOR))
    assert get(client, f"/mentor/learners/{course.learner.id}", stranger).status_code == 404
    assert "Lena" not in get(client, "/mentor/change", stranger).get_data(as_text=True)


def test_the_course_view_of_change_from_five_learners(client, course, make_person, twice):
    people = [make_person(course, given_name=f"P{i}", family_name="Pair") for i in range(5)]
    for person in people[:4]:
        twice(course, person, careful_answers(5), careful_answers(6))
    page = get(client, "/mentor/change", course.token).get_data(as_text=True)
    assert "4 learners have two or more attempts to compare." in page
    assert row(page, "Empathy") == ["4", "not enough learners"]
    # A flagged pair (answered too fast) never counts.
    flagged = make_person(course, given_name="Fast", family_name="Pair")
    twice(course, flagged, careful_answers(5), careful_answers(6), seconds=1)
    assert row(get(client, "/mentor/change", course.token).get_data(as_text=True),
               "Empathy") == ["4", "not enough learners"]
    twice(course, people[4], careful_answers(5), leaning_answers(high="empathy", keyed=6))
    page = get(client, "/mentor/change", course.token).get_data(as_text=True)
    assert "5 learners have two or more attempts to compare." in page
    # Empathy: before 7.0 each; after (4 × 8.5 + 10.0) / 5 = 8.8; one change of +3.0 is real.
    assert row(page, "Empathy") == ["5", "7.0", "8.8", "+1.8", "1", "0"]
    assert row(page, "Optimism to have an impact") == ["5", "7.0", "8.5", "+1.5", "0", "0"]


def test_a_v1_attempt_then_a_v2_attempt_compare_for_the_learner_and_the_mentor(
        client, course, take, launch_of, monkeypatch):
    from lti_tool.questionnaire import versions

    monkeypatch.setattr(versions, "CURRENT_INSTRUMENT_VERSION", 1)
    first = take(course, course.learner, careful_answers(5))
    monkeypatch.setattr(versions, "CURRENT_INSTRUMENT_VERSION", 2)
    delivery.allow_retake(launch_of(course, course.mentor), course.learner.id)
    db.session.commit()
    second = take(course, course.learner, leaning_answers(high="empathy", keyed=5))
    assert (first.instrument_version, second.instrument_version) == (1, 2)

    learner_page = get(client, "/questionnaire/comparison", course.learner_token)
    mentor_page = get(client, f"/mentor/learners/{course.learner.id}", course.token)
    for page in (learner_page, mentor_page):
        assert page.status_code == 200
        html = unescape(page.get_data(as_text=True))
        assert "different versions of the questionnaire (version 1 and version 2)" in html
        # Empathy's items are the same in both versions: its change is compared, and real.
        assert row(html, "Empathy") == ["7.0 (±0.9)", "10.0 (±0.9)", "+3.0", "a real increase"]
