"""Item analysis against numbers worked out by hand, and the command that prints it."""

from __future__ import annotations

import pytest

from lti_tool.extensions import db
from lti_tool.questionnaire.item_analysis import (
    corrected_item_total,
    item_analysis,
)
from lti_tool.questionnaire.scoring import cronbach_alpha
from lti_tool.questionnaire.versions import current_instrument

#: 4 people × items A, B, C.
ROWS = [[1, 1, 2], [2, 3, 2], [3, 2, 4], [4, 4, 4]]


def test_the_corrected_item_total_correlation_leaves_the_item_out():
    # A = 1, 2, 3, 4; the rest B + C = 3, 5, 6, 8. Deviations from the means 2.5 and 5.5:
    # (−1.5, −0.5, 0.5, 1.5) and (−2.5, −0.5, 0.5, 2.5); products sum to 8, squares to 5 and
    # 13: r = 8 / √65 = 0.992278. (With A in the total it would be higher still.)
    assert corrected_item_total(ROWS, 0) == pytest.approx(8 / 65**0.5)
    # C = 2, 2, 4, 4 against A + B = 2, 5, 5, 8: products (−1)(−3) + (−1)(0) + 0 + (1)(3) = 6,
    # squares 4 and 18: r = 6 / √72 = 0.707107.
    assert corrected_item_total(ROWS, 2) == pytest.approx(6 / 72**0.5)


def test_a_constant_item_has_no_correlation():
    assert corrected_item_total([[3, 1], [3, 2], [3, 4]], 0) is None


def test_alpha_without_an_item():
    # Without A: B = 1, 3, 2, 4 (variance 5/3), C = 2, 2, 4, 4 (4/3), B + C (13/3):
    # alpha = 2 × (1 − 9/13) = 8/13 = 0.615385.
    assert cronbach_alpha([row[1:] for row in ROWS]) == pytest.approx(8 / 13)


def test_the_analysis_of_an_instrument_marks_a_weak_item_for_review(make_answers):
    instrument = current_instrument()
    items = instrument.items_for_dimension("empathy")
    sets = []
    for person in range(30):
        keyed = 1 + person % 7
        answers = make_answers(keyed)
        # The last empathy item runs against its dimension: it will correlate negatively.
        last = items[-1]
        against = 8 - keyed
        answers[last.id] = 8 - against if last.reverse else against
        sets.append(answers)
    analysis = item_analysis(instrument, sets)
    empathy = analysis.dimension("empathy")
    assert analysis.n == 30 and empathy.n == 30
    figures = {entry.item_id: entry for entry in empathy.items}
    assert figures[items[-1].id].corrected_total < 0 and figures[items[-1].id].review
    assert not figures[items[0].id].review
    assert figures[items[0].id].corrected_total == pytest.approx(
        corrected_item_total([[answers_value(instrument, item, a) for item in items]
                              for a in sets], 0))
    low, high = empathy.interval
    assert low < empathy.alpha < high


def answers_value(instrument, item, answers):
    from lti_tool.questionnaire.scoring import keyed_value

    return keyed_value(instrument, item, answers[item.id])


def test_nothing_below_thirty_responses(make_answers):
    analysis = item_analysis(current_instrument(), [make_answers(1 + i % 7) for i in range(29)])
    assert all(entry.alpha is None and entry.reason == "not enough responses"
               for entry in analysis.dimensions)


def test_the_command_prints_the_analysis_per_version(app):
    from tests.mentoring.seeding import seed_cohort
    from tests.questionnaire.test_delivery import make_activity, make_platform

    runner = app.test_cli_runner()
    with app.app_context():
        assert "No submitted responses yet." in runner.invoke(
            args=["questionnaire", "item-analysis"]).output
        activity = make_activity(make_platform())
        seed_cohort(platform_id=activity.course.platform_id, course_id=activity.course.id,
                    resource_link_id=activity.link.id, learners=29, mix=False)
        few = runner.invoke(args=["questionnaire", "item-analysis"])
        assert few.exit_code == 0, few.output
        current = current_instrument().key  # seed_cohort answers with the current version
        assert f"{current}: 29 complete, unflagged responses" in few.output
        assert "not enough responses: item analysis needs 30" in few.output
        seed_cohort(platform_id=activity.course.platform_id, course_id=activity.course.id,
                    resource_link_id=activity.link.id, learners=1, mix=False, prefix="late")
        result = runner.invoke(args=["questionnaire", "item-analysis", "--instrument", current])
        assert result.exit_code == 0, result.output
        assert "Empathy: alpha " in result.output and "95% CI" in result.output
        assert "r (corrected)" in result.output
        bad = runner.invoke(args=["questionnaire", "item-analysis", "--instrument", "nope@9"])
        assert bad.exit_code != 0 and "no instrument nope@9" in bad.output
        db.session.rollback()
