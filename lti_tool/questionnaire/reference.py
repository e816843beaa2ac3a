"""The reference group of an instrument version: the precision in force, and norms.

The reference group is each person's latest complete, unflagged response to one instrument
version, across the installation (or within one course, for course norms). From
MIN_REFERENCE_GROUP people on, it replaces the instrument file's provisional reliability and
SD (Cronbach's alpha and the SD of the group's scores, per dimension) and gives percentile
ranks; below that, the provisional figures stay and no percentile is shown.

The figures are computed once per change in the installation's results: an aggregate (count
and latest times of the version's results) tells whether a cached group is still true. It
reads every result of the version, so a process trusts its last answer for FRESH_SECONDS,
unless it has itself written attempts or results since: a result saved by another process
shows in this one's figures within that second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import ORMExecuteState, Session

from lti_tool.extensions import db
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.interpretation import (
    DimensionPrecision,
    Precision,
    provisional_precision,
)
from lti_tool.questionnaire.measurement import MIN_REFERENCE_GROUP, percentile_rank
from lti_tool.questionnaire.models import Answer, Attempt, Result
from lti_tool.questionnaire.scoring import cohort_statistics

#: Where the app keeps computed groups: (instrument key, course id) → (fingerprint, value).
CACHE_KEY = "reference_groups"
#: How long a process trusts a fingerprint it read (seconds) while it writes no result.
FRESH_SECONDS = 1.0
#: Bumped whenever this process writes attempts or results (see _note_writes).
_writes = [0]


def is_unflagged(quality_flags: list[Mapping[str, Any]] | None) -> bool:
    """Whether a stored result's quality flags (Result.quality_flags, a list of structured
    flags) are empty: the same rule as Result.flagged and responses.counted().

    Flagged responses never count in reliability, norms, cohort statistics or change figures.
    """
    return not quality_flags


@dataclass(frozen=True)
class ReferenceGroup:
    """Each person's latest complete, unflagged result of one version, and its scores."""

    instrument_key: str
    #: None: the whole installation; else one course.
    course_id: int | None
    attempt_ids: tuple[int, ...]
    #: Dimension id → the group's scores on 1..10.
    scores: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """How many people the group holds."""
        return len(self.attempt_ids)

    @property
    def enough(self) -> bool:
        """Whether the group is large enough for norms and reliability (MIN_REFERENCE_GROUP)."""
        return self.n >= MIN_REFERENCE_GROUP

    def percentile(self, dimension_id: str, score: float) -> float | None:
        """The percentile rank of a score in the group; None below MIN_REFERENCE_GROUP."""
        return percentile_rank(score, self.scores.get(dimension_id, ()))


def reference_group(instrument: Instrument, course_id: int | None = None) -> ReferenceGroup:
    """The group for this version: the installation's, or one course's when `course_id` is set."""
    return _cached(("group", instrument.key, course_id), instrument,
                   lambda: _load_group(instrument, course_id))


def precision_for(instrument: Instrument) -> Precision:
    """Each dimension's reliability, SD and SEM for this version, with where they come from.

    From the installation's reference group once it holds MIN_REFERENCE_GROUP people (a
    dimension whose alpha has no value keeps its provisional figures); provisional before.
    """
    return _cached(("precision", instrument.key, None), instrument,
                   lambda: _pooled_precision(instrument))


def reference_answer_sets(instrument: Instrument,
                          group: ReferenceGroup | None = None) -> list[dict[str, int]]:
    """The raw answers of the installation's reference group (item id → answer), per person."""
    group = reference_group(instrument) if group is None else group
    wanted = set(group.attempt_ids)
    sets: dict[int, dict[str, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(Answer.attempt_id, Answer.item_id, Answer.value)
        .join(Attempt, Attempt.id == Answer.attempt_id)
        .where(*_version(instrument), Attempt.submitted_dt.is_not(None))
    )
    for attempt_id, item_id, value in rows:
        if attempt_id in wanted:
            sets[attempt_id][item_id] = value
    return list(sets.values())


def _pooled_precision(instrument: Instrument) -> Precision:
    provisional = provisional_precision(instrument)
    group = reference_group(instrument)
    if not group.enough:
        return provisional
    stats = cohort_statistics(instrument, reference_answer_sets(instrument, group),
                              min_n=MIN_REFERENCE_GROUP)
    dimensions: dict[str, DimensionPrecision] = {}
    for dimension in instrument.dimensions:
        entry = stats.dimension(dimension.id)
        if entry.alpha is None or entry.sd is None:
            # Too few complete answer sets, or no variance: nothing better than the file's.
            dimensions[dimension.id] = provisional.dimensions[dimension.id]
        else:
            dimensions[dimension.id] = DimensionPrecision(entry.alpha, entry.sd, False, stats.n)
    return Precision(instrument.key, dimensions)


def versions_answered() -> list[tuple[str, int]]:
    """Every (instrument id, version) with at least one submitted attempt, in order."""
    return [tuple(row) for row in db.session.execute(
        select(Attempt.instrument_id, Attempt.instrument_version)
        .where(Attempt.submitted_dt.is_not(None)).distinct()
        .order_by(Attempt.instrument_id, Attempt.instrument_version)
    )]


def _version(instrument: Instrument) -> list[Any]:
    return [Attempt.instrument_id == instrument.id,
            Attempt.instrument_version == instrument.version]


def _load_group(instrument: Instrument, course_id: int | None) -> ReferenceGroup:
    query = (
        select(Attempt.id, Attempt.person_id, Result.dimension_scores, Result.quality_flags)
        .join(Result, Result.attempt_id == Attempt.id)
        .where(*_version(instrument), Attempt.submitted_dt.is_not(None))
        .order_by(Attempt.person_id, Attempt.submitted_dt.desc(), Attempt.id.desc())
    )
    if course_id is not None:
        query = query.where(Attempt.course_id == course_id)
    chosen: dict[int, tuple[int, Mapping[str, Any]]] = {}
    for attempt_id, person_id, scores, flags in db.session.execute(query):
        # One voice per person: their latest response that the quality checks did not flag.
        if person_id not in chosen and is_unflagged(flags):
            chosen[person_id] = (attempt_id, scores or {})
    by_dimension: dict[str, list[float]] = {d.id: [] for d in instrument.dimensions}
    for _, scores in chosen.values():
        for dimension_id, values in by_dimension.items():
            if dimension_id in scores:
                values.append(float(scores[dimension_id]["score"]))
    return ReferenceGroup(
        instrument.key, course_id, tuple(attempt_id for attempt_id, _ in chosen.values()),
        {key: tuple(sorted(values)) for key, values in by_dimension.items()},
    )


def _fingerprint(instrument: Instrument) -> tuple[Any, ...]:
    """What changes whenever a result of this version is added, removed or rescored."""
    return tuple(db.session.execute(
        select(func.count(Result.id), func.max(Result.id), func.max(Result.scored_dt),
               func.max(Attempt.submitted_dt))
        .join(Attempt, Attempt.id == Result.attempt_id)
        .where(*_version(instrument))
    ).one())


def _cached(key: tuple[Any, ...], instrument: Instrument, compute):
    if not has_app_context():
        return compute()
    cache = current_app.extensions.setdefault(CACHE_KEY, {})
    fingerprint = _fresh_fingerprint(cache, instrument)
    hit = cache.get(key)
    if hit is not None and hit[0] == fingerprint:
        return hit[1]
    value = compute()
    cache[key] = (fingerprint, value)
    return value


def _fresh_fingerprint(cache: dict[Any, Any], instrument: Instrument) -> tuple[Any, ...]:
    """The version's fingerprint, read again once FRESH_SECONDS have passed or this process
    has written attempts or results since it last read it."""
    key = ("fingerprint", instrument.key)
    now = monotonic()
    seen = cache.get(key)
    if seen is not None and seen[1] == _writes[0] and now - seen[0] < FRESH_SECONDS:
        return seen[2]
    writes = _writes[0]
    fingerprint = _fingerprint(instrument)
    cache[key] = (now, writes, fingerprint)
    return fingerprint


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, _context: Any) -> None:
    """A flush that adds, changes or deletes attempts or results."""
    if any(isinstance(found, Attempt | Result)
           for found in (*session.new, *session.dirty, *session.deleted)):
        _writes[0] += 1


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    """An INSERT, UPDATE or DELETE run through the session (bulk changes, erasure)."""
    if not state.is_select:
        _writes[0] += 1
