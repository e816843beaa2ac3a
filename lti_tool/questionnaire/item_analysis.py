"""Item analysis of an instrument version: how well each dimension's statements hang together.

Per dimension, over complete responses (keyed answers): Cronbach's alpha with Feldt's 95%
confidence interval, and per item its corrected item–total correlation (the Pearson
correlation of the item with the sum of the dimension's *other* items) and the alpha the
dimension would have without it. An item is marked for review when its corrected item–total
correlation is below REVIEW_CORRELATION or removing it raises alpha by more than
REVIEW_ALPHA_GAIN. Nothing is computed from fewer than MIN_REFERENCE_GROUP responses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from operator import mul

from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.measurement import MIN_REFERENCE_GROUP, feldt_interval
from lti_tool.questionnaire.scoring import (
    AlphaUndefined,
    Answers,
    ScoringError,
    check_answers,
    cronbach_alpha,
    keyed_value,
)

#: An item correlating less than this with the rest of its dimension is reviewed.
REVIEW_CORRELATION = 0.20
#: An item whose removal raises the dimension's alpha by more than this is reviewed.
REVIEW_ALPHA_GAIN = 0.02
#: The confidence of alpha's interval.
ALPHA_CONFIDENCE = 0.95


@dataclass(frozen=True)
class ItemFigures:
    """One item's figures within its dimension."""

    item_id: str
    reverse: bool
    #: The mean keyed answer on the answer scale.
    mean: float
    #: Correlation with the sum of the dimension's other items; None without variance.
    corrected_total: float | None
    #: The dimension's alpha without this item; None when it has no value (e.g. one item left).
    alpha_if_deleted: float | None
    review: bool


@dataclass(frozen=True)
class DimensionAnalysis:
    """One dimension's reliability and its items' figures (None below the minimum)."""

    dimension_id: str
    n: int
    alpha: float | None
    interval: tuple[float, float] | None
    items: tuple[ItemFigures, ...]
    #: Why alpha is missing ("not enough responses", no variance ...), else None.
    reason: str | None = None


@dataclass(frozen=True)
class ItemAnalysis:
    """Every dimension of one instrument version analysed over the same responses."""

    instrument_key: str
    n: int
    excluded: int
    dimensions: tuple[DimensionAnalysis, ...]
    min_n: int = MIN_REFERENCE_GROUP

    def dimension(self, dimension_id: str) -> DimensionAnalysis:
        """One dimension's analysis; KeyError if there is none."""
        for entry in self.dimensions:
            if entry.dimension_id == dimension_id:
                return entry
        raise KeyError(dimension_id)


NOT_ENOUGH = "not enough responses"


@dataclass(frozen=True)
class ItemSpreads:
    """Exact sums from which every item's corrected item–total correlation and alpha-if-deleted
    follow, gathered in one go over respondents × items (integer keyed values).

    A "spread" of x is n·Σx² − (Σx)², a "co-spread" of x and y n·Σxy − Σx·Σy: n(n − 1) times
    the (co)variance. The factor cancels in every figure, and with integer answers the sums
    stay exact integers, so the figures equal those worked out on the matrix without the item
    (cronbach_alpha gives bit for bit the same alpha; identical items still give 1.0).
    """

    n: int
    #: Per item: Σx, its spread, and its co-spread with the total T of all items.
    sums: tuple[int, ...]
    spreads: tuple[int, ...]
    with_total: tuple[int, ...]
    #: The spread of the totals T.
    total_spread: int

    @classmethod
    def of(cls, rows: Sequence[Sequence[int]]) -> ItemSpreads:
        """The sums of respondents × items (keyed values, every row the same items)."""
        return cls.of_columns(len(rows), list(zip(*rows, strict=True)))

    @classmethod
    def of_columns(cls, n: int, columns: Sequence[Sequence[int]]) -> ItemSpreads:
        """The sums of items × respondents: one column of n keyed values per item."""
        totals = [sum(row) for row in zip(*columns, strict=True)] if columns else [0] * n
        total_sum = sum(totals)
        sums = tuple(sum(column) for column in columns)
        return cls(
            n=n,
            sums=sums,
            spreads=tuple(n * sum(map(mul, column, column)) - total ** 2
                          for column, total in zip(columns, sums, strict=True)),
            with_total=tuple(n * sum(map(mul, column, totals)) - total * total_sum
                             for column, total in zip(columns, sums, strict=True)),
            total_spread=n * sum(map(mul, totals, totals)) - total_sum ** 2,
        )

    def mean(self, index: int) -> float:
        """The mean of item `index`."""
        return self.sums[index] / self.n

    def corrected_total(self, index: int) -> float | None:
        """Pearson r of item `index` with the sum of the other items; None without variance."""
        # cov(x, T − x) = cov(x, T) − var(x).
        co_spread = self.with_total[index] - self.spreads[index]
        spreads = self.spreads[index] * self._rest_spread(index)
        return None if spreads == 0 else co_spread / math.sqrt(spreads)

    def alpha(self) -> float | None:
        """Cronbach's alpha of all the items, as cronbach_alpha gives it; None where it has
        none (fewer than 2 items or responses, or every response has the same total)."""
        return _alpha(len(self.spreads), sum(self.spreads), self.total_spread)

    def alpha_without(self, index: int) -> float | None:
        """Cronbach's alpha of the other items; None where it has none (fewer than 2 items
        left, or every response has the same total without this item)."""
        return _alpha(len(self.spreads) - 1, sum(self.spreads) - self.spreads[index],
                      self._rest_spread(index))

    def _rest_spread(self, index: int) -> int:
        # var(T − x) = var(T) + var(x) − 2·cov(x, T).
        return self.total_spread + self.spreads[index] - 2 * self.with_total[index]


def _alpha(k: int, item_spread: int, total_spread: int) -> float | None:
    # k / (k − 1) · (1 − Σ item spreads / total spread) as one exact fraction, rounded once,
    # as cronbach_alpha computes it (n < 2 leaves a total spread of 0).
    if k < 2 or total_spread == 0:
        return None
    return float(Fraction(k, k - 1) * (1 - Fraction(item_spread, total_spread)))


def item_analysis(instrument: Instrument, answer_sets: Iterable[Answers],
                  min_n: int = MIN_REFERENCE_GROUP) -> ItemAnalysis:
    """Alpha with its interval and item figures per dimension over complete answer sets."""
    complete, excluded = [], 0
    for answers in answer_sets:
        try:
            check_answers(instrument, answers)
        except ScoringError:
            excluded += 1
        else:
            complete.append(answers)
    entries = []
    for dimension in instrument.dimensions:
        items = instrument.items_for_dimension(dimension.id)
        if len(complete) < min_n:
            entries.append(DimensionAnalysis(dimension.id, len(complete), None, None, (),
                                             reason=NOT_ENOUGH))
            continue
        columns = [_keyed_column(instrument, item, complete) for item in items]
        entries.append(_dimension(dimension.id, items, len(complete), columns))
    return ItemAnalysis(instrument.key, len(complete), excluded, tuple(entries), min_n)


def _keyed_column(instrument: Instrument, item, answer_sets: list[Answers]) -> list[int]:
    # keyed_value once per point of the scale, then a look-up per answer: 10,000 responses
    # hold 640,000 scored answers, and a call for each took longer than the statistics.
    keyed = {point: keyed_value(instrument, item, point) for point in instrument.scale.points}
    return [keyed[answers[item.id]] for answers in answer_sets]


def _dimension(dimension_id: str, items, n: int, columns: list[list[int]]) -> DimensionAnalysis:
    k = len(items)
    spreads = ItemSpreads.of_columns(n, columns)
    alpha = spreads.alpha()
    if alpha is None:
        rows = [[column[index] for column in columns] for index in range(n)]
        return DimensionAnalysis(dimension_id, n, None, None, (), reason=_why_no_alpha(rows))
    figures = []
    for index, item in enumerate(items):
        alpha_without = spreads.alpha_without(index)
        correlation = spreads.corrected_total(index)
        review = ((correlation is not None and correlation < REVIEW_CORRELATION)
                  or (alpha_without is not None and alpha_without - alpha > REVIEW_ALPHA_GAIN))
        figures.append(ItemFigures(item.id, item.reverse, spreads.mean(index), correlation,
                                   alpha_without, review))
    interval = feldt_interval(alpha, n, k, ALPHA_CONFIDENCE)
    return DimensionAnalysis(dimension_id, n, alpha, interval, tuple(figures))


def _why_no_alpha(rows: list[list[int]]) -> str:
    # cronbach_alpha's words, which the statistics page translates (ALPHA_REASONS).
    try:
        cronbach_alpha(rows)
    except AlphaUndefined as undefined:
        return str(undefined)
    raise AssertionError("cronbach_alpha has a value where ItemSpreads.alpha has none")


def report_lines(analysis: ItemAnalysis, instrument: Instrument) -> list[str]:
    """The analysis as plain text lines, for the command line (English, fixed width)."""
    lines = [f"{analysis.instrument_key}: {analysis.n} complete, unflagged responses"
             + (f" ({analysis.excluded} incomplete left out)" if analysis.excluded else "")]
    if analysis.n < analysis.min_n:
        lines.append(f"  not enough responses: item analysis needs {analysis.min_n}")
        return lines
    for entry in analysis.dimensions:
        name = instrument.dimension(entry.dimension_id).name.get("en")
        if entry.alpha is None:
            lines.append(f"  {name}: alpha has no value ({entry.reason})")
            continue
        low, high = entry.interval
        lines.append(f"  {name}: alpha {entry.alpha:.2f} "
                     f"(95% CI {low:.2f} to {high:.2f}, Feldt), n = {entry.n}")
        lines.append(f"    {'item':<10} {'mean':>5} {'r (corrected)':>14} {'alpha without':>14}")
        for item in entry.items:
            correlation = "—" if item.corrected_total is None else f"{item.corrected_total:.2f}"
            without = "—" if item.alpha_if_deleted is None else f"{item.alpha_if_deleted:.2f}"
            mark = "  review" if item.review else ""
            label = item.item_id + (" (R)" if item.reverse else "")
            lines.append(f"    {label:<10} {item.mean:>5.2f} {correlation:>14} {without:>14}{mark}")
    return lines
