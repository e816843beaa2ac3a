"""The course's change over time: per dimension, each learner's first attempt against their latest.

Learners of the course with two or more submitted, unflagged attempts in the activity count
(first against latest, whatever the instrument versions, dimension by dimension). Per
dimension: how many learners, the mean before and after, the mean change, and how many
changed beyond measurement error (|RCI| > 1.96) up or down. Below MIN_COHORT_SIZE learners a
dimension's figures are withheld: they would expose individuals. One query for the attempts,
whatever the course's size, and the precision once per instrument version.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.figures import display, signed_text
from lti_tool.identity.models import Membership, Role
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.scope import course_of
from lti_tool.questionnaire.comparison import dimension_changes
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.measurement import Change, change_verdict
from lti_tool.questionnaire.models import Attempt, Result
from lti_tool.questionnaire.reference import is_unflagged, precision_for
from lti_tool.questionnaire.scoring import MIN_COHORT_SIZE
from lti_tool.questionnaire.versions import current_instrument, get_instrument


@dataclass(frozen=True)
class DimensionTrend:
    """One dimension's pre/post figures over the learners who took it twice or more."""

    id: str
    name: str
    learners: int
    #: None below MIN_COHORT_SIZE learners.
    before_text: str | None
    after_text: str | None
    change_text: str | None
    increases: int | None
    decreases: int | None

    @property
    def shown(self) -> bool:
        """Whether enough learners count for the figures to be shown."""
        return self.change_text is not None


@dataclass(frozen=True)
class CourseChange:
    """Everything the course's change page shows."""

    #: Learners with two or more unflagged submitted attempts in the activity.
    learners: int
    #: Of those, how many answered their first and latest attempt with different versions.
    across_versions: int
    dimensions: tuple[DimensionTrend, ...]
    min_learners: int = MIN_COHORT_SIZE


def course_change(launch: LaunchContext, locale: str | None) -> CourseChange:
    """First against latest attempt per dimension, over the launch's course and activity."""
    course_id = course_of(launch)
    scope = [Attempt.course_id == course_id, Attempt.submitted_dt.is_not(None)]
    if launch.resource_link_id is not None:
        scope.append(Attempt.resource_link_id == launch.resource_link_id)
    rows = db.session.execute(
        select(Attempt.person_id, Attempt.instrument_id, Attempt.instrument_version,
               Attempt.submitted_dt, Attempt.id, Result.dimension_scores, Result.quality_flags)
        .join(Result, Result.attempt_id == Attempt.id)
        .join(Membership, (Membership.person_id == Attempt.person_id)
              & (Membership.course_id == course_id))
        .where(*scope, Membership.role == Role.LEARNER)
        .order_by(Attempt.person_id, Attempt.submitted_dt, Attempt.id)
    ).all()
    by_person: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        # Flagged responses may not reflect the learner: they never count in course figures.
        if is_unflagged(row.quality_flags):
            by_person[row.person_id].append(row)
    pairs = [(found[0], found[-1]) for found in by_person.values() if len(found) >= 2]
    # dimension id → [(before, after, verdict)]
    changes: dict[str, list[tuple[float, float, Change]]] = defaultdict(list)
    sems: dict[str, dict[str, float]] = {}
    for first, last in pairs:
        old, new = _instrument(first), _instrument(last)
        for instrument in (old, new):
            if instrument.key not in sems:
                sems[instrument.key] = precision_for(instrument).sems()
        for key, before, after, _, _, rci in dimension_changes(
                old, _scores(first), new, _scores(last), sems[old.key], sems[new.key]):
            changes[key].append((before, after, change_verdict(rci)))
    instrument = current_instrument()
    trends = []
    for dimension in instrument.dimensions:
        found = changes.get(dimension.id, [])
        shown = len(found) >= MIN_COHORT_SIZE
        before = statistics.fmean(entry[0] for entry in found) if shown else None
        after = statistics.fmean(entry[1] for entry in found) if shown else None
        trends.append(DimensionTrend(
            id=dimension.id, name=dimension.name.get(locale), learners=len(found),
            before_text=display(before, locale) if before is not None else None,
            after_text=display(after, locale) if after is not None else None,
            change_text=(signed_text(after - before, locale)
                         if before is not None and after is not None else None),
            increases=(sum(1 for entry in found if entry[2] is Change.INCREASE)
                       if shown else None),
            decreases=(sum(1 for entry in found if entry[2] is Change.DECREASE)
                       if shown else None),
        ))
    return CourseChange(
        learners=len(pairs),
        across_versions=sum(1 for first, last in pairs
                            if first.instrument_version != last.instrument_version
                            or first.instrument_id != last.instrument_id),
        dimensions=tuple(trends),
    )


def _instrument(row: Any) -> Instrument:
    return get_instrument(row.instrument_id, row.instrument_version)


def _scores(row: Any) -> dict[str, float]:
    return {key: float(entry["score"]) for key, entry in (row.dimension_scores or {}).items()}
