"""What a score may claim: its precision, its band, strengths by evidence, change, norms.

Pure functions of classical test theory (docs/measurement.md has the sources and values):

- standard error of measurement: SEM = SD × √(1 − r), on the 1..10 scale of the scores;
- a band of ±z·SEM around a score (z = 1 for the 68% band shown with every score);
- strengths and areas for development are ipsative: dimension i differs from the person's own
  mean of all k dimensions when |score_i − mean| > z × SE_i, with
  SE_i = √(SEM_i² × (1 − 2/k) + Σ_j SEM_j² / k²) (the error of a difference between a score and
  a mean that contains it); otherwise it is "in the usual range". Equal scores are equal: no
  ranking, so no tie is ever broken by the order of a file;
- change between two attempts (Jacobson & Truax, 1991): RCI = (after − before) / S_diff with
  S_diff = √(SEM_before² + SEM_after²), which is √(2 × SEM²) when both have the same SEM;
- percentile rank in a reference group: 100 × (below + equal / 2) / n, only from n ≥ 30;
- Feldt's (1965) confidence interval for Cronbach's alpha from n people and k items:
  [1 − (1 − α)·F(1 − γ/2), 1 − (1 − α)·F(γ/2)] with F the quantiles of the F distribution
  with n − 1 and (n − 1)(k − 1) degrees of freedom (Feldt, Woodruff & Salih, 1987).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from statistics import NormalDist

from scipy.stats import f as f_distribution

#: Below this many people a reference group gives no percentile, reliability or SD.
MIN_REFERENCE_GROUP = 30
#: The band shown with every score: ±1 SEM, which holds the true score about 68% of the time.
SCORE_BAND_Z = 1.0
SCORE_BAND_CONFIDENCE = 0.68
#: |RCI| above this is a reliable change at 95% (Jacobson & Truax, 1991).
RELIABLE_CHANGE_Z = 1.96


class Standing(enum.StrEnum):
    """Where a dimension stands against the person's own mean."""

    STRENGTH = "strength"
    AREA = "area"
    USUAL = "usual"


class Level(enum.StrEnum):
    """The described band a score falls in."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class Change(enum.StrEnum):
    """What a change between two attempts means once measurement error is allowed for."""

    INCREASE = "increase"
    DECREASE = "decrease"
    WITHIN = "within"


def standard_error(sd: float, reliability: float) -> float:
    """SEM = SD × √(1 − r); a reliability below 0 (possible for alpha) counts as 0."""
    if sd < 0:
        raise ValueError(f"a standard deviation cannot be negative, got {sd}")
    if reliability > 1:
        raise ValueError(f"a reliability cannot exceed 1, got {reliability}")
    return sd * math.sqrt(1 - max(reliability, 0.0))


@cache
def z_for(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level: 0.90 → 1.645, 0.95 → 1.960."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def band(score: float, sem: float, z: float = SCORE_BAND_Z,
         low: float = 1.0, high: float = 10.0) -> tuple[float, float]:
    """score ± z·SEM, cut to the scale (a true score cannot lie outside it)."""
    return max(low, score - z * sem), min(high, score + z * sem)


def level(score: float, low_up_to: float, high_from: float) -> Level:
    """The band of a score: low up to `low_up_to`, high from `high_from`, moderate between."""
    if not low_up_to < high_from:
        raise ValueError(f"the low band must end ({low_up_to}) below the high one ({high_from})")
    if score <= low_up_to:
        return Level.LOW
    if score >= high_from:
        return Level.HIGH
    return Level.MODERATE


def mean_error(sems: Sequence[float]) -> float:
    """SEM of the mean of k scores whose errors are independent: √(Σ SEM_j²) / k."""
    if not sems:
        raise ValueError("a mean needs at least one score")
    return math.sqrt(sum(sem * sem for sem in sems)) / len(sems)


def difference_error(sems: Sequence[float], index: int) -> float:
    """SE of (score_i − mean of all k scores): √(SEM_i²(1 − 2/k) + Σ SEM_j² / k²)."""
    return difference_errors(sems)[index]


def difference_errors(sems: Sequence[float]) -> list[float]:
    """difference_error for every dimension at once (Σ SEM_j² is summed once)."""
    k = len(sems)
    if k < 2:
        raise ValueError("a profile needs at least 2 dimensions")
    pooled = sum(sem * sem for sem in sems) / k**2
    return [math.sqrt(sem * sem * (1 - 2 / k) + pooled) for sem in sems]


@dataclass(frozen=True)
class DimensionReading:
    """One dimension of a profile read against the person's own mean."""

    dimension_id: str
    score: float
    sem: float
    #: score − the person's mean over all dimensions.
    difference: float
    #: z × SE of that difference: the least difference that counts.
    threshold: float
    standing: Standing


@dataclass(frozen=True)
class ProfileReading:
    """A whole profile read ipsatively; dimensions in the order they were given."""

    mean: float
    z: float
    dimensions: tuple[DimensionReading, ...]

    @property
    def strengths(self) -> tuple[DimensionReading, ...]:
        """Dimensions reliably above the person's mean, furthest first (equal ones in order)."""
        found = [entry for entry in self.dimensions if entry.standing is Standing.STRENGTH]
        return tuple(sorted(found, key=lambda entry: -entry.difference))

    @property
    def areas(self) -> tuple[DimensionReading, ...]:
        """Dimensions reliably below the person's mean, furthest first (equal ones in order)."""
        found = [entry for entry in self.dimensions if entry.standing is Standing.AREA]
        return tuple(sorted(found, key=lambda entry: entry.difference))

    @property
    def flat(self) -> bool:
        """Whether no dimension stands out from the others beyond measurement error."""
        return not self.strengths and not self.areas

    def reading(self, dimension_id: str) -> DimensionReading:
        """One dimension's reading; KeyError if the profile has none."""
        for entry in self.dimensions:
            if entry.dimension_id == dimension_id:
                return entry
        raise KeyError(dimension_id)


def read_profile(scores: Sequence[tuple[str, float]], sems: Mapping[str, float],
                 z: float) -> ProfileReading:
    """Classify each dimension as a strength, an area for development or the usual range.

    `scores` pairs each dimension id with its score; `sems` gives each dimension's SEM. A
    dimension is a strength when score − mean > z × SE_i, an area when mean − score > z × SE_i.
    """
    if z <= 0:
        raise ValueError(f"z must be positive, got {z}")
    values = [value for _, value in scores]
    mean = math.fsum(values) / len(values)
    errors = [sems[dimension_id] for dimension_id, _ in scores]
    thresholds = [z * error for error in difference_errors(errors)]
    readings = []
    for index, (dimension_id, value) in enumerate(scores):
        difference = value - mean
        threshold = thresholds[index]
        standing = (Standing.STRENGTH if difference > threshold
                    else Standing.AREA if -difference > threshold else Standing.USUAL)
        readings.append(DimensionReading(dimension_id, value, errors[index], difference,
                                         threshold, standing))
    return ProfileReading(mean, z, tuple(readings))


def reliable_change_index(before: float, after: float, sem_before: float,
                          sem_after: float | None = None) -> float:
    """RCI = (after − before) / √(SEM_before² + SEM_after²); one SEM for both if one is given."""
    sem_after = sem_before if sem_after is None else sem_after
    spread = math.sqrt(sem_before**2 + sem_after**2)
    if spread == 0:
        raise ValueError("a change needs a measurement error above zero to be judged")
    return (after - before) / spread


def change_verdict(rci: float, z: float = RELIABLE_CHANGE_Z) -> Change:
    """A reliable increase or decrease when |RCI| > z; otherwise within the usual variation."""
    if rci > z:
        return Change.INCREASE
    if rci < -z:
        return Change.DECREASE
    return Change.WITHIN


def percentile_rank(score: float, group: Sequence[float],
                    min_n: int = MIN_REFERENCE_GROUP) -> float | None:
    """The share of the group scoring below `score`, counting equal scores half; None below min_n.

    On 0..100. The group is the reference group as it is (the person in it included).
    """
    if len(group) < min_n:
        return None
    below = sum(1 for value in group if value < score)
    equal = sum(1 for value in group if value == score)
    return 100 * (below + equal / 2) / len(group)


def feldt_interval(alpha: float, n: int, k: int,
                   confidence: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval for Cronbach's alpha of n people answering k items."""
    if n < 2 or k < 2:
        raise ValueError(f"alpha's interval needs at least 2 people and 2 items, got {n}, {k}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    tail = (1 - confidence) / 2
    between, within = n - 1, (n - 1) * (k - 1)
    upper_f = float(f_distribution.ppf(1 - tail, between, within))
    lower_f = float(f_distribution.ppf(tail, between, within))
    return 1 - (1 - alpha) * upper_f, 1 - (1 - alpha) * lower_f
