"""Two attempts side by side: per dimension the change, and whether it exceeds measurement error.

The change is judged with the reliable change index (Jacobson & Truax, 1991; measurement.py):
each score's SEM is the one in force for the version it was answered with, and |RCI| > 1.96
is "a real increase" or "a real decrease"; anything smaller is "within the usual variation".
Attempts of different instrument versions are compared dimension by dimension (the items
changed, so the page says so); a dimension that only one version has is named, not compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from markupsafe import Markup

from lti_tool.figures import display, score_text, signed_text
from lti_tool.i18n import format_day
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.questionnaire.chart import Series, radar_svg
from lti_tool.questionnaire.delivery import AttemptNotFound, instrument_for
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.measurement import (
    RELIABLE_CHANGE_Z,
    Change,
    change_verdict,
    reliable_change_index,
)
from lti_tool.questionnaire.models import Attempt
from lti_tool.questionnaire.reference import precision_for

VERDICT_LABELS = {
    Change.INCREASE: _l("a real increase"),
    Change.DECREASE: _l("a real decrease"),
    Change.WITHIN: _l("within the usual variation"),
}


@dataclass(frozen=True)
class DimensionChange:
    """One dimension in two attempts: both scores, the change and what it means."""

    id: str
    name: str
    before: float
    after: float
    before_sem: float
    after_sem: float
    before_text: str
    after_text: str
    change: float
    #: "+1.2", "−0.4": the change as people write it.
    change_text: str
    rci: float
    rci_text: str
    verdict: Change
    verdict_label: str


@dataclass(frozen=True)
class ComparisonView:
    """What a comparison page shows: two attempts, their changes, the overlaid chart."""

    before_id: int
    after_id: int
    before_number: int
    after_number: int
    before_dt: datetime
    after_dt: datetime
    before_version: int
    after_version: int
    dimensions: tuple[DimensionChange, ...]
    #: Names of dimensions that only one of the two versions has (not compared).
    not_compared: tuple[str, ...]
    chart_svg: Markup
    #: The |RCI| a real change must exceed, as people write it ("1.96", "1,96").
    z_text: str

    @property
    def versions_differ(self) -> bool:
        """Whether the two attempts were answered with different instrument versions."""
        return self.before_version != self.after_version

    @property
    def increases(self) -> tuple[DimensionChange, ...]:
        """Dimensions that increased beyond measurement error."""
        return tuple(entry for entry in self.dimensions if entry.verdict is Change.INCREASE)

    @property
    def decreases(self) -> tuple[DimensionChange, ...]:
        """Dimensions that decreased beyond measurement error."""
        return tuple(entry for entry in self.dimensions if entry.verdict is Change.DECREASE)


def dimension_changes(
    before: Instrument, before_scores: Mapping[str, float], after: Instrument,
    after_scores: Mapping[str, float], sems_before: Mapping[str, float] | None = None,
    sems_after: Mapping[str, float] | None = None,
) -> list[tuple[str, float, float, float, float, float]]:
    """(dimension id, before, after, SEM before, SEM after, RCI) for dimensions both versions
    have, in the later version's order; SEMs are the versions' own unless given."""
    sems_before = precision_for(before).sems() if sems_before is None else sems_before
    sems_after = precision_for(after).sems() if sems_after is None else sems_after
    found = []
    for dimension in after.dimensions:
        key = dimension.id
        if key not in sems_before or key not in before_scores or key not in after_scores:
            continue
        rci = reliable_change_index(before_scores[key], after_scores[key], sems_before[key],
                                    sems_after[key])
        found.append((key, before_scores[key], after_scores[key], sems_before[key],
                      sems_after[key], rci))
    return found


def compare(before: Attempt, after: Attempt, locale: str | None, *, name: str | None = None,
            chart_id: str = "comparison-chart") -> ComparisonView:
    """Compare two submitted attempts of one person (found within the caller's scope).

    `name` names the person in the chart for a mentor; without it the chart says "you".
    """
    for attempt in (before, after):
        if attempt.result is None:
            raise AttemptNotFound(f"attempt {attempt.id} has no result yet")
    old, new = instrument_for(before), instrument_for(after)
    old_scores = before.result.profile().scores
    new_scores = after.result.profile().scores
    changes = []
    for key, first, second, sem_first, sem_second, rci in dimension_changes(
            old, old_scores, new, new_scores):
        verdict = change_verdict(rci)
        changes.append(DimensionChange(
            id=key, name=new.dimension(key).name.get(locale), before=first, after=second,
            before_sem=sem_first, after_sem=sem_second,
            before_text=score_text(first, locale, sem_first),
            after_text=score_text(second, locale, sem_second),
            change=second - first, change_text=signed_text(second - first, locale),
            rci=rci, rci_text=signed_text(rci, locale),
            verdict=verdict, verdict_label=str(VERDICT_LABELS[verdict]),
        ))
    compared = {entry.id for entry in changes}
    not_compared = tuple(
        dimension.name.get(locale)
        for instrument in (new, old) for dimension in instrument.dimensions
        if dimension.id not in compared
    )
    return ComparisonView(
        before_id=before.id, after_id=after.id,
        before_number=before.number, after_number=after.number,
        before_dt=before.submitted_dt, after_dt=after.submitted_dt,
        before_version=old.version, after_version=new.version,
        dimensions=tuple(changes), not_compared=tuple(dict.fromkeys(not_compared)),
        chart_svg=_chart(changes, before, after, name, chart_id),
        z_text=display(RELIABLE_CHANGE_Z, locale, digits=2),
    )


def _chart(changes: list[DimensionChange], before: Attempt, after: Attempt, name: str | None,
           chart_id: str) -> Markup:
    if len(changes) < 3:
        # A radar needs three axes; the table says everything there is.
        return Markup("")

    def label(attempt: Attempt) -> str:
        return _("Attempt %(number)d, %(date)s", number=attempt.number,
                 date=format_day(attempt.submitted_dt))

    series = [
        Series(label(after), [entry.after for entry in changes], "after",
               errors=[entry.after_sem for entry in changes]),
        Series(label(before), [entry.before for entry in changes], "before",
               errors=[entry.before_sem for entry in changes]),
    ]
    title = (_("Your profile in two attempts") if name is None
             else _("%(name)s: profile in two attempts", name=name))
    description = " ".join([
        _("Scores from 1 to 10 on each dimension in the later attempt (solid line) and the "
          "earlier one (dashed line)."),
        _("The thick line along each axis spans each score plus or minus one standard error "
          "of measurement."),
        _("The table beside the chart lists the same values and whether each change is "
          "larger than the measurement error."),
    ])
    # chart.py builds the SVG with ElementTree, which escapes every text and attribute.
    return Markup(radar_svg([entry.name for entry in changes], series, title=title,
                            description=description, chart_id=chart_id))
