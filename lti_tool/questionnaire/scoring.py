"""Turn answers into a profile, flag doubtful responses, and summarise a cohort.

Scores are computed with exact fractions and stored as floats; round them only for display
(lti_tool.figures). A dimension's score is the mean of its items (reverse-keyed items mirrored
as min + max - x) mapped onto 1..10: 1 + 9 * (mean - min) / (max - min). What a score may
claim (its precision, band, strengths and areas) is measurement.py's business.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lti_tool.questionnaire.instrument import Instrument, Item

SCORE_MIN = 1
SCORE_MAX = 10
#: Below this many responses, cohort figures are withheld: they would expose individuals.
MIN_COHORT_SIZE = 5
#: A page is straight-lined when this share of its scored items got the same answer ...
STRAIGHT_LINING_SHARE = Fraction(9, 10)
#: ... and it has at least this many scored items (on tiny pages agreement is unremarkable).
STRAIGHT_LINING_MIN_ITEMS = 5
#: A page answered faster than this per item (attention checks included) was hardly read.
MIN_SECONDS_PER_ITEM = 1.5
#: Agreeing with an item and with its reverse twin counts as a contradiction when both answers
#: lie in the scale's top this-many points (6 or 7 on a 1..7 scale; docs/measurement.md).
CONTRADICTION_TOP_POINTS = 2
NOT_ENOUGH_RESPONSES = "not enough responses"

Answers = Mapping[str, int]


class ScoringError(ValueError):
    """Answers or timings cannot be scored against this instrument."""


class IncompleteAnswers(ScoringError):
    """Some scored items have no answer."""

    def __init__(self, missing_ids: Iterable[str]):
        self.missing_ids = tuple(missing_ids)
        super().__init__(f"unanswered items: {', '.join(self.missing_ids)}")


class InvalidAnswer(ScoringError):
    """An answer names an unknown item or lies outside the scale."""

    def __init__(self, item_id: str, value: object, problem: str):
        self.item_id = item_id
        self.value = value
        super().__init__(f"answer {value!r} for item {item_id!r}: {problem}")


class AlphaUndefined(ScoringError):
    """Cronbach's alpha has no value for these responses; the message says why."""


@dataclass(frozen=True)
class DimensionScore:
    """One dimension's result: `score` on 1..10, `mean` on the answer scale after keying."""

    dimension_id: str
    score: float
    mean: float


@dataclass(frozen=True)
class AreaScore:
    """The mean of an area's dimension scores, on 1..10."""

    area_id: str
    score: float


class FlagKind(enum.StrEnum):
    """What a response-quality check found."""

    #: An attention check got another answer than the one it asked for (or none).
    ATTENTION_CHECK = "attention_check"
    #: A page got (nearly) the same answer everywhere.
    STRAIGHT_LINING = "straight_lining"
    #: A page was answered too fast to have been read.
    TOO_FAST = "too_fast"
    #: Strong agreement with an item and with its reverse twin (a contradiction).
    CONTRADICTORY_PAIR = "contradictory_pair"


@dataclass(frozen=True)
class QualityFlag:
    """One finding of the response-quality checks, as data: pages are 0-based indexes.

    Which fields are set depends on the kind: an attention check has `item`, `expected` and
    `value` (None: no answer); straight-lining `page`, `value` (the repeated answer), `count`
    of `of` statements; too fast `page`, `seconds`, `count` statements and `minimum` seconds
    each; a contradictory pair `page`, `twin` (the plain item) with `twin_value`, and `item`
    (its reverse-keyed twin) with `value`. Rendered for people by quality_notes.py.
    """

    kind: FlagKind
    page: int | None = None
    seconds: float | None = None
    value: int | None = None
    item: str | None = None
    expected: int | None = None
    count: int | None = None
    of: int | None = None
    minimum: float | None = None
    twin: str | None = None
    twin_value: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The flag as stored (JSON): the kind and every field that is set."""
        stored: dict[str, Any] = {"kind": self.kind.value}
        for name in _FLAG_FIELDS:
            value = getattr(self, name)
            if value is not None:
                stored[name] = value
        return stored

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> QualityFlag:
        """A stored flag; fields this version does not know are left out."""
        return cls(FlagKind(stored["kind"]),
                   **{name: stored[name] for name in _FLAG_FIELDS if name in stored})


_FLAG_FIELDS = ("page", "seconds", "value", "item", "expected", "count", "of", "minimum",
                "twin", "twin_value")


@dataclass(frozen=True)
class QualityFlags:
    """Signs that a response may not reflect the respondent; shown to mentors, never hidden."""

    flags: tuple[QualityFlag, ...] = ()

    def _of(self, kind: FlagKind) -> tuple[QualityFlag, ...]:
        return tuple(flag for flag in self.flags if flag.kind is kind)

    @property
    def failed_attention_checks(self) -> tuple[str, ...]:
        """The ids of the attention checks that got another answer than asked for."""
        return tuple(flag.item or "" for flag in self._of(FlagKind.ATTENTION_CHECK))

    @property
    def straight_lined_pages(self) -> tuple[int, ...]:
        """The 0-based indexes of pages that got (nearly) the same answer everywhere."""
        return tuple(flag.page for flag in self._of(FlagKind.STRAIGHT_LINING)
                     if flag.page is not None)

    @property
    def too_fast_pages(self) -> tuple[int, ...]:
        """The 0-based indexes of pages answered too fast to have been read."""
        return tuple(flag.page for flag in self._of(FlagKind.TOO_FAST) if flag.page is not None)

    @property
    def contradictory_pairs(self) -> tuple[tuple[str, str], ...]:
        """(plain item, reverse twin) pairs that both got strong agreement."""
        return tuple((flag.twin or "", flag.item or "")
                     for flag in self._of(FlagKind.CONTRADICTORY_PAIR))

    @property
    def attention_check_failed(self) -> bool:
        """Whether any attention check got another answer than the one it asked for."""
        return bool(self.failed_attention_checks)

    @property
    def straight_lining(self) -> bool:
        """Whether any page got (nearly) the same answer everywhere."""
        return bool(self.straight_lined_pages)

    @property
    def too_fast(self) -> bool:
        """Whether any page was answered too fast to have been read."""
        return bool(self.too_fast_pages)

    @property
    def ok(self) -> bool:
        """Whether nothing was flagged."""
        return not self.flags

    def to_list(self) -> list[dict[str, Any]]:
        """The flags as stored with a result (a JSON list)."""
        return [flag.to_dict() for flag in self.flags]

    @classmethod
    def from_list(cls, stored: Iterable[Mapping[str, Any]] | None) -> QualityFlags:
        """Flags as stored with a result."""
        return cls(tuple(QualityFlag.from_dict(entry) for entry in stored or ()))


@dataclass(frozen=True)
class Profile:
    """A learner's scored response: dimensions in instrument order, and quality flags."""

    instrument_key: str
    dimensions: tuple[DimensionScore, ...]
    areas: tuple[AreaScore, ...]
    overall: float
    quality: QualityFlags

    @property
    def scores(self) -> dict[str, float]:
        """Dimension id → 1..10 score, in instrument order."""
        return {entry.dimension_id: entry.score for entry in self.dimensions}

    @property
    def area_scores(self) -> dict[str, float]:
        """Area id → 1..10 score, in instrument order."""
        return {entry.area_id: entry.score for entry in self.areas}

    def dimension_score(self, dimension_id: str) -> float:
        """The 1..10 score of one dimension; KeyError if the instrument has no such dimension."""
        return self.scores[dimension_id]


def keyed_value(instrument: Instrument, item: Item, answer: int) -> int:
    """The answer as it counts for the item's dimension: mirrored for reverse-keyed items."""
    scale = instrument.scale
    return scale.min + scale.max - answer if item.reverse else answer


def keyed_rows(instrument: Instrument, items: Sequence[Item],
               answer_sets: Iterable[Answers]) -> list[list[int]]:
    """keyed_value of `items` for each answer set: a row per response. keyed_value runs once
    per item and point of the scale, then each answer is a look-up: a large course holds
    hundreds of thousands of answers."""
    tables = [(item.id, {point: keyed_value(instrument, item, point)
                         for point in instrument.scale.points}) for item in items]
    return [[table[answers[item_id]] for item_id, table in tables] for answers in answer_sets]


def score(
    instrument: Instrument,
    answers: Answers,
    page_seconds: Mapping[int, float] | None = None,
) -> Profile:
    """Score a complete set of answers; IncompleteAnswers or InvalidAnswer if it is not one."""
    check_answers(instrument, answers)
    means = _keyed_means(instrument, answers)
    exact = _ten_point_scores(instrument, means)
    areas = []
    for area in instrument.areas:
        members = instrument.dimensions_for_area(area.id)
        areas.append(AreaScore(area.id, float(_mean(exact[member.id] for member in members))))
    return Profile(
        instrument_key=instrument.key,
        dimensions=tuple(
            DimensionScore(dimension_id, float(exact[dimension_id]), float(mean))
            for dimension_id, mean in means.items()
        ),
        areas=tuple(areas),
        overall=float(_mean(exact.values())),
        quality=assess_quality(instrument, answers, page_seconds),
    )


def check_answers(instrument: Instrument, answers: Answers) -> None:
    """Raise InvalidAnswer or IncompleteAnswers unless every scored item has a valid answer."""
    known = instrument.item_ids
    points = instrument.scale.points
    for item_id, value in answers.items():
        if item_id not in known:
            # Usually answers stored for another instrument version: never score them here.
            raise InvalidAnswer(item_id, value, f"{instrument.key} has no such item")
        # bool is an int subclass; True is never a deliberate answer.
        if type(value) is not int or value not in points:
            raise InvalidAnswer(
                item_id, value,
                f"must be a whole number from {instrument.scale.min} to {instrument.scale.max}",
            )
    missing = [item.id for item in instrument.scored_items if item.id not in answers]
    if missing:
        raise IncompleteAnswers(missing)


def assess_quality(
    instrument: Instrument, answers: Answers, page_seconds: Mapping[int, float] | None = None
) -> QualityFlags:
    """Flag failed attention checks, straight-lined pages, pages answered too fast, and
    contradictory reverse pairs.

    Straight-lining: a page with at least 5 scored items where one raw answer (before reverse
    keying) covers at least 90% of them; with reverse-keyed items on every page, a careful
    reader rarely gives the same answer that often. Answering every scored item alike is
    therefore flagged on every page. Too fast: a page whose time in `page_seconds` (seconds by
    0-based page index; pages without a time are not judged) is under 1.5 s per item shown.
    Contradictory pair: an item and its declared reverse twin (Instrument.twin_pairs) both
    answered at `contradiction_from` or above, i.e. strong agreement with a statement and
    with its opposite (docs/measurement.md).
    """
    pages = instrument.pages()
    page_of = {item.id: index for index, page in enumerate(pages) for item in page}
    flags: list[QualityFlag] = []
    for check in instrument.attention_checks:
        expected, given = check.attention_check_expected, answers.get(check.id)
        if given != expected:
            flags.append(QualityFlag(FlagKind.ATTENTION_CHECK, page=page_of[check.id],
                                     item=check.id, expected=expected, value=given))
    for index, page in enumerate(pages):
        given = [answers[item.id] for item in page if not item.is_attention_check
                 and item.id in answers]
        if len(given) < STRAIGHT_LINING_MIN_ITEMS:
            continue
        value, same = Counter(given).most_common(1)[0]
        if same >= STRAIGHT_LINING_SHARE * len(given):
            flags.append(QualityFlag(FlagKind.STRAIGHT_LINING, page=index, value=value,
                                     count=same, of=len(given)))
    for index, seconds in sorted((page_seconds or {}).items()):
        if not 0 <= index < len(pages):
            raise ScoringError(f"page_seconds names page {index}; there are {len(pages)} pages")
        if seconds < MIN_SECONDS_PER_ITEM * len(pages[index]):
            flags.append(QualityFlag(FlagKind.TOO_FAST, page=index, seconds=round(seconds, 1),
                                     count=len(pages[index]), minimum=MIN_SECONDS_PER_ITEM))
    strong = contradiction_from(instrument)
    for plain, reverse in instrument.twin_pairs:
        plain_value, reverse_value = answers.get(plain.id), answers.get(reverse.id)
        if plain_value is None or reverse_value is None:
            continue
        if plain_value >= strong and reverse_value >= strong:
            flags.append(QualityFlag(FlagKind.CONTRADICTORY_PAIR, page=page_of[reverse.id],
                                     item=reverse.id, value=reverse_value, twin=plain.id,
                                     twin_value=plain_value))
    return QualityFlags(tuple(flags))


def contradiction_from(instrument: Instrument) -> int:
    """The lowest answer that counts as strong agreement in a contradictory pair.

    The top CONTRADICTION_TOP_POINTS points of the scale: 6 ("Agree") and 7 ("Strongly
    agree") on a 1..7 scale; mild agreement with both statements is not a contradiction.
    """
    return instrument.scale.max - CONTRADICTION_TOP_POINTS + 1


def _mean(values: Iterable[Fraction]) -> Fraction:
    values = list(values)
    return sum(values, Fraction(0)) / len(values)


def _keyed_means(instrument: Instrument, answers: Answers) -> dict[str, Fraction]:
    return {
        dimension.id: _mean(
            Fraction(keyed_value(instrument, item, answers[item.id]))
            for item in instrument.items_for_dimension(dimension.id)
        )
        for dimension in instrument.dimensions
    }


def _ten_point_scores(instrument: Instrument, means: dict[str, Fraction]) -> dict[str, Fraction]:
    low, high = instrument.scale.min, instrument.scale.max
    return {
        dimension_id: SCORE_MIN + (SCORE_MAX - SCORE_MIN) * (mean - low) / (high - low)
        for dimension_id, mean in means.items()
    }


# Cohort statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionStatistics:
    """A cohort's figures for one dimension; None with a `reason` where they are withheld.

    `histogram[k - 1]` counts the scores that round (half up) to k, for k in 1..10.
    """

    dimension_id: str
    n: int
    mean: float | None
    sd: float | None
    histogram: tuple[int, ...] | None
    alpha: float | None
    reason: str | None = None
    alpha_reason: str | None = None


@dataclass(frozen=True)
class CohortStatistics:
    """Per-dimension statistics over a cohort's complete responses."""

    instrument_key: str
    n: int
    excluded: int
    dimensions: tuple[DimensionStatistics, ...]

    def dimension(self, dimension_id: str) -> DimensionStatistics:
        """The statistics of one dimension; KeyError if there is none."""
        for entry in self.dimensions:
            if entry.dimension_id == dimension_id:
                return entry
        raise KeyError(dimension_id)


def cohort_statistics(
    instrument: Instrument, answer_sets: Iterable[Answers], min_n: int = MIN_COHORT_SIZE
) -> CohortStatistics:
    """n, mean, sample SD, histogram and Cronbach's alpha per dimension over complete responses.

    Incomplete or invalid answer sets are left out and counted in `excluded`. With fewer than
    `min_n` complete responses every figure is None with the reason "not enough responses".
    """
    if min_n < 2:
        raise ValueError("min_n must be at least 2: a spread needs two responses")
    complete: list[Answers] = []
    excluded = 0
    for answers in answer_sets:
        try:
            check_answers(instrument, answers)
        except ScoringError:
            excluded += 1
        else:
            complete.append(answers)
    # Integer sums keep every figure exact and fast (2,000 responses in a few milliseconds,
    # where fractions took a second).
    low, span = instrument.scale.min, instrument.scale.max - instrument.scale.min
    entries = []
    for dimension in instrument.dimensions:
        if len(complete) < min_n:
            entries.append(DimensionStatistics(
                dimension.id, len(complete), None, None, None, None,
                reason=NOT_ENOUGH_RESPONSES, alpha_reason=NOT_ENOUGH_RESPONSES,
            ))
            continue
        items = instrument.items_for_dimension(dimension.id)
        rows = keyed_rows(instrument, items, complete)
        count = len(items)
        # 1 + 9·(mean − min)/(max − min) as one integer division: correctly rounded.
        scores = [
            (SCORE_MIN * count * span + (SCORE_MAX - SCORE_MIN) * (sum(row) - count * low))
            / (count * span)
            for row in rows
        ]
        try:
            alpha, alpha_reason = cronbach_alpha(rows), None
        except AlphaUndefined as undefined:
            alpha, alpha_reason = None, str(undefined)
        entries.append(DimensionStatistics(
            dimension.id, len(complete), statistics.fmean(scores), statistics.stdev(scores),
            histogram(scores), alpha, alpha_reason=alpha_reason,
        ))
    return CohortStatistics(instrument.key, len(complete), excluded, tuple(entries))


def histogram(scores: Iterable[float]) -> tuple[int, ...]:
    """Counts of 1..10 scores by the whole number they round to (half up)."""
    counts = [0] * (SCORE_MAX - SCORE_MIN + 1)
    for value in scores:
        whole = min(SCORE_MAX, max(SCORE_MIN, math.floor(value + 0.5)))
        counts[whole - SCORE_MIN] += 1
    return tuple(counts)


def cronbach_alpha(rows: Sequence[Sequence[float]]) -> float:
    """Cronbach's alpha of respondents × items (keyed values); AlphaUndefined if it has none.

    alpha = k / (k - 1) * (1 - sum of item variances / variance of the total scores).
    """
    if len(rows) < 2:
        raise AlphaUndefined("fewer than 2 responses")
    k = len(rows[0])
    if any(len(row) != k for row in rows):
        raise ValueError("every response must answer the same items")
    if k < 2:
        raise AlphaUndefined("fewer than 2 items")
    # n·Σx² − (Σx)² is the variance times n(n − 1): the common factor cancels in the ratio,
    # and with integer answers every sum stays an exact integer (identical items give 1.0).
    exact = rows if all(isinstance(v, int) for row in rows for v in row) else [
        [Fraction(value) for value in row] for row in rows
    ]
    n = len(exact)

    def spread(values: Sequence[Any]) -> Any:
        return n * sum(v * v for v in values) - sum(values) ** 2

    item_spread = sum(spread(column) for column in zip(*exact, strict=True))
    total_spread = spread([sum(row) for row in exact])
    if total_spread == 0:
        raise AlphaUndefined("every response has the same total, so the variance is zero")
    return float(Fraction(k, k - 1) * (1 - Fraction(item_spread) / Fraction(total_spread)))


def cohort_average(
    profiles: Sequence[Profile], min_n: int = MIN_COHORT_SIZE
) -> dict[str, float] | None:
    """Dimension id → mean score over the profiles, or None below `min_n` profiles."""
    if len(profiles) < min_n or not profiles:
        return None
    keys = {profile.instrument_key for profile in profiles}
    if len(keys) > 1:
        # Versions may differ in dimensions or items; averaging them would mean nothing.
        raise ScoringError(f"profiles from several instruments: {', '.join(sorted(keys))}")
    return {
        dimension_id: statistics.fmean(profile.scores[dimension_id] for profile in profiles)
        for dimension_id in profiles[0].scores
    }
