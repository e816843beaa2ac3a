"""What one result's scores mean, read with the instrument version they were answered with.

Each dimension gets its precision (the SEM, provisional or from the installation's own
responses), its band (low / moderate / high, with the instrument's text for it) and its
standing against the person's own mean (strength, area for development, usual range). The
rules are measurement.py's; this module only feeds them an instrument's numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.measurement import (
    Level,
    ProfileReading,
    level,
    read_profile,
    standard_error,
    z_for,
)


@dataclass(frozen=True)
class DimensionPrecision:
    """How precisely one dimension is measured, and where the figures come from."""

    reliability: float
    sd: float
    provisional: bool
    #: The size of the installation's reference group when the figures come from it.
    n: int | None = None

    @property
    def sem(self) -> float:
        """The standard error of measurement on the 1..10 scale."""
        return standard_error(self.sd, self.reliability)


@dataclass(frozen=True)
class Precision:
    """Every dimension's precision for one instrument version."""

    instrument_key: str
    dimensions: Mapping[str, DimensionPrecision]

    @property
    def provisional(self) -> bool:
        """Whether any dimension still uses the instrument file's provisional figures."""
        return any(entry.provisional for entry in self.dimensions.values())

    @property
    def reference_n(self) -> int | None:
        """The reference group's size when every figure comes from the installation's data."""
        sizes = {entry.n for entry in self.dimensions.values()}
        return sizes.pop() if len(sizes) == 1 else None

    def sem(self, dimension_id: str) -> float:
        """One dimension's SEM; KeyError for a dimension of another instrument."""
        return self.dimensions[dimension_id].sem

    def sems(self) -> dict[str, float]:
        """Dimension id → SEM."""
        return dict(self._sems)

    @cached_property
    def _sems(self) -> dict[str, float]:
        # Worked out once: a cohort page reads 50 profiles with the same figures.
        return {key: entry.sem for key, entry in self.dimensions.items()}


def provisional_precision(instrument: Instrument) -> Precision:
    """The precision written in the instrument file (used until enough responses exist)."""
    return Precision(instrument.key, {
        dimension.id: DimensionPrecision(dimension.precision.reliability,
                                         dimension.precision.sd,
                                         dimension.precision.provisional)
        for dimension in instrument.dimensions
    })


def read_scores(instrument: Instrument, scores: Mapping[str, float],
                precision: Precision) -> ProfileReading:
    """Strengths, areas for development and the usual range for one set of dimension scores."""
    if precision.instrument_key != instrument.key:
        # Another version's figures would describe other items.
        raise ValueError(f"precision of {precision.instrument_key} for {instrument.key}")
    ordered = [(dimension.id, scores[dimension.id]) for dimension in instrument.dimensions]
    z = z_for(instrument.interpretation.strength_confidence)
    return read_profile(ordered, precision._sems, z)


def level_of(instrument: Instrument, score: float) -> Level:
    """The band a 1..10 score falls in under the instrument's limits."""
    rules = instrument.interpretation
    return level(score, rules.low_up_to, rules.high_from)
