"""Item analysis against numbers worked out by hand and against the figures worked out the
long way (each item taken out of the matrix), and the command that prints it."""

from __future__ import annotations

import random
import statistics

import pytest

from lti_tool.extensions import db
from lti_tool.questionnaire.item_analysis import ItemSpreads, item_analysis
from lti_tool.questionnaire.measurement import MIN_REFERENCE_GROUP
from lti_tool.questionnaire.scoring import AlphaUndefined, cronbach_alpha
from lti_tool.questionnaire.versions import current_instrument

#: 4 people × items A, B, C.
ROWS = [[1, 1, 2], [2, 3, 2], [3, 2, 4], [4, 4, 4]]


def test_the_corrected_item_total_correlation_leaves_the_item_out():
    # A = 1, 2, 3, 4; the rest B + C = 3, 5, 6, 8. Deviations from the means 2.5 and 5.5:
    # (−1.5, −0.5, 0.5, 1.5) and (−2.5, −0.5, 0.5, 2.5); products sum to 8, squares to 5 and
    # 13: r = 8 / √65 = 0.992278. (With A in the total it would be higher still.)
    assert ItemSpreads.of(ROWS).corrected_total(0) == pytest.approx(8 / 65**0.5)
    # C = 2, 2, 4, 4 against A + B = 2, 5, 5, 8: products (−1)(−3) + (−1)(0) + 0 + (1)(3) = 6,
    # squares 4 and 18: r = 6 / √72 = 0.707107.
    assert ItemSpreads.of(ROWS).corrected_total(2) == pytest.approx(6 / 72**0.5)


def test_a_constant_item_has_no_correlation():
    assert ItemSpreads.of([[3, 1], [3, 2], [3, 4]]).corrected_total(0) is None


def test_alpha_without_an_item():
    # Without A: B = 1, 3, 2, 4 (variance 5/3), C = 2, 2, 4, 4 (4/3), B + C (13/3):
    # alpha = 2 × (1 − 9/13) = 8/13 = 0.615385.
    assert cronbach_alpha([row[1:] for row in ROWS]) == pytest.approx(8 / 13)
    assert ItemSpreads.of(ROWS).alpha_without(0) == pytest.approx(8 / 13)


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
    rows = [[answers_value(instrument, item, a) for item in items] for a in sets]
    assert figures[items[0].id].corrected_total == pytest.approx(reference_figures(rows)[0][1])
    low, high = empathy.interval
    assert low < empathy.alpha < high


def answers_value(instrument, item, answers):
    from lti_tool.questionnaire.scoring import keyed_value

    return keyed_value(instrument, item, answers[item.id])


def reference_figures(rows):
    """(mean, corrected item–total r, alpha without) per item, the long way: the item's
    column against the row sums without it, and alpha of the matrix without its column."""
    figures = []
    for index in range(len(rows[0])):
        item = [row[index] for row in rows]
        try:
            correlation = statistics.correlation(item, [sum(row) - row[index] for row in rows])
        except statistics.StatisticsError:
            correlation = None
        try:
            alpha = cronbach_alpha([row[:index] + row[index + 1:] for row in rows])
        except AlphaUndefined:
            alpha = None
        figures.append((statistics.fmean(item), correlation, alpha))
    return figures


def random_matrix(rng, n, k):
    """n × k answers on 1..7 with the shapes that make edge cases: a shared trait plus noise
    (ties, clamped ends), constant items, identical items, an item against the rest."""
    trait = [rng.gauss(0, 1) for _ in range(n)]
    noise = rng.choice([0.3, 1.0, 3.0])
    columns = []
    for _ in range(k):
        shape = rng.choice(["trait", "trait", "trait", "constant", "copy", "against", "coarse"])
        if shape == "constant":
            columns.append([rng.randint(1, 7)] * n)
        elif shape == "copy" and columns:
            columns.append(list(rng.choice(columns)))
        elif shape == "against" and columns:
            columns.append([8 - value for value in rng.choice(columns)])
        elif shape == "coarse":
            columns.append([rng.choice([3, 5]) for _ in range(n)])
        else:
            columns.append([min(7, max(1, round(4 + 1.5 * t + rng.gauss(0, noise))))
                            for t in trait])
    return [list(row) for row in zip(*columns, strict=True)]


def test_the_item_figures_equal_those_worked_out_without_each_item():
    rng = random.Random(20261203)
    seen = {"no correlation": 0, "no alpha": 0, "alpha 1": 0, "k = 2": 0, "k = 3": 0}
    for case in range(600):
        k = rng.choice([2, 3, 3, 4, 5, 8])
        n = rng.choice([2, 3, 7, MIN_REFERENCE_GROUP, MIN_REFERENCE_GROUP + 1, 97, 400])
        rows = (random_matrix(rng, n, k) if case % 50
                else [[rng.randint(1, 7)] * k for _ in range(n)])  # identical items, all of them
        spreads = ItemSpreads.of(rows)
        try:
            assert spreads.alpha() == cronbach_alpha(rows), rows
        except AlphaUndefined:
            assert spreads.alpha() is None, rows
        for index, (mean, correlation, alpha) in enumerate(reference_figures(rows)):
            where = f"case {case}, item {index} of {rows}"
            assert spreads.mean(index) == mean, where
            fast = spreads.corrected_total(index)
            if correlation is None:
                assert fast is None, where
                seen["no correlation"] += 1
            else:
                assert fast == pytest.approx(correlation, abs=1e-12, rel=0), where
            # Both are the same exact fraction rounded once: equal to the last bit.
            assert spreads.alpha_without(index) == alpha, where
            seen["no alpha"] += alpha is None
            seen["alpha 1"] += alpha == 1.0
        seen[f"k = {k}"] = seen.get(f"k = {k}", 0) + 1
    # The cases meant to be covered were.
    assert all(count > 10 for count in seen.values()), seen


def test_an_instruments_analysis_equals_the_long_way_on_keyed_answers(make_answers):
    instrument = current_instrument()
    rng = random.Random(3)
    sets = []
    for _ in range(MIN_REFERENCE_GROUP + 25):
        answers = make_answers(4)
        lean = {dimension.id: rng.randint(1, 7) for dimension in instrument.dimensions}
        for item in instrument.scored_items:
            keyed = min(7, max(1, lean[item.dimension_id] + rng.choice((-2, -1, 0, 0, 1, 2))))
            answers[item.id] = 8 - keyed if item.reverse else keyed
        sets.append(answers)
    del sets[0][instrument.scored_items[0].id]  # incomplete: left out
    analysis = item_analysis(instrument, sets)
    assert (analysis.n, analysis.excluded) == (len(sets) - 1, 1)
    for dimension in instrument.dimensions:
        items = instrument.items_for_dimension(dimension.id)
        rows = [[answers_value(instrument, item, answers) for item in items]
                for answers in sets[1:]]
        entry = analysis.dimension(dimension.id)
        assert entry.alpha == cronbach_alpha(rows)
        for figures, (mean, correlation, alpha) in zip(entry.items, reference_figures(rows),
                                                       strict=True):
            assert (figures.mean, figures.alpha_if_deleted) == (mean, alpha)
            assert figures.corrected_total == pytest.approx(correlation, abs=1e-12, rel=0)


def test_item_figures_on_the_edges():
    # Two items: nothing left to have an alpha without either one.
    assert ItemSpreads.of([[1, 2], [3, 3], [2, 5]]).alpha_without(0) is None
    # Identical items: exactly 1.0 without any one of them, as cronbach_alpha gives.
    identical = ItemSpreads.of([[v, v, v] for v in (1, 4, 2, 7, 5)])
    assert [identical.alpha_without(i) for i in range(3)] == [1.0, 1.0, 1.0]
    assert identical.corrected_total(0) == pytest.approx(1.0, abs=1e-15)
    # The other items always add up to the same: neither r nor alpha without the first.
    steady = ItemSpreads.of([[1, 2, 6], [5, 4, 4], [3, 1, 7]])
    assert steady.corrected_total(0) is None and steady.alpha_without(0) is None
    # No alpha from one response, one item, or totals that never vary.
    assert ItemSpreads.of([[1, 2, 3]]).alpha() is None
    assert ItemSpreads.of([[1], [2], [3]]).alpha() is None
    assert ItemSpreads.of([[1, 7], [7, 1], [4, 4]]).alpha() is None


def test_a_dimension_without_alpha_says_why_in_cronbach_alphas_words(make_answers):
    instrument = current_instrument()
    alone = item_analysis(instrument, [make_answers(3)], min_n=1)
    assert {(entry.alpha, entry.items, entry.reason) for entry in alone.dimensions} == {
        (None, (), "fewer than 2 responses")}
    alike = item_analysis(instrument, [make_answers(5)] * MIN_REFERENCE_GROUP)
    assert {(entry.alpha, entry.items, entry.reason) for entry in alike.dimensions} == {
        (None, (), "every response has the same total, so the variance is zero")}


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
