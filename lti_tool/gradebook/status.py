"""What mentors see and do: each learner's score on its way to the LMS, retries, the grade mode.

Everything is scoped by the launch's course and activity (resource link): a record of another
course looks exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select, true

from lti_tool.extensions import db
from lti_tool.gradebook.lineitems import static_problem
from lti_tool.gradebook.models import GradeMode, GradeSettings, ScoreRecord, ScoreStatus
from lti_tool.gradebook.settings import grade_settings
from lti_tool.gradebook.sync import add_record
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Person, ResourceLink, utcnow
from lti_tool.sql_lists import in_bound_ids


class RecordNotFound(Exception):
    """No such score in the launch's course and activity."""


class NotRetryable(Exception):
    """Only the newest score of a learner, once failed, can be tried again."""


class NotHeld(Exception):
    """Only a score held for a mentor's review can be released or withheld."""


#: The columns of a SyncState, in its fields' order (a record's, or a row's: sync_states).
STATE_COLUMNS = (
    ScoreRecord.id, ScoreRecord.status, ScoreRecord.grade_mode, ScoreRecord.score_given,
    ScoreRecord.score_maximum, ScoreRecord.score_dt, ScoreRecord.attempts,
    ScoreRecord.next_try_dt, ScoreRecord.sent_dt, ScoreRecord.last_error,
)


@dataclass(frozen=True)
class SyncState:
    """A learner's newest score in an activity and how far it got."""

    record_id: int
    status: ScoreStatus
    grade_mode: GradeMode
    score_given: float
    score_maximum: float
    score_dt: datetime
    attempts: int
    next_try_dt: datetime
    sent_dt: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, record: ScoreRecord) -> SyncState:
        """The state of one record."""
        return cls(*(getattr(record, column.key) for column in STATE_COLUMNS))


def _newest_records(course_id: Any, resource_link_id: Any, reach: Any = None,
                    people: Any = None):
    """Each person's newest record in the activity, if the activity is in the course (and its
    learner is one the mentor reaches, when `reach` says whom; one that `people`, a condition
    on the record's person, admits, when given)."""
    newest = (
        select(func.max(ScoreRecord.id))
        .where(ScoreRecord.resource_link_id == resource_link_id)
        .group_by(ScoreRecord.person_id)
    )
    if people is not None:
        newest = newest.where(people)
    return (
        select(ScoreRecord, Person)
        .join(Person, Person.id == ScoreRecord.person_id)
        .join(ResourceLink, ResourceLink.id == ScoreRecord.resource_link_id)
        .where(ScoreRecord.id.in_(newest), ResourceLink.course_id == course_id,
               true() if reach is None else reach)
    )


def sync_states(course_id: int | None, resource_link_id: int,
                person_ids: Collection[int] | None = None) -> dict[int, SyncState]:
    """Person id → the sync state of their newest score in the activity (one query), of
    `person_ids` only when given (a page of a large cohort)."""
    values: dict[str, Any] = {"states_course": course_id, "states_link": resource_link_id}
    if person_ids is not None:
        values["states_people"] = list(person_ids)
    rows = db.session.execute(_states_statement(
        person_ids is not None, course_id is None, db.session.get_bind().dialect.name), values)
    return {person_id: SyncState(*state) for person_id, *state in rows}


@cache
def _states_statement(of_people: bool, no_course: bool, dialect: str) -> Select:
    """_newest_records' states as columns, not objects: every cohort page reads 50 of them.
    Built once per shape and database, its values bound."""
    people = (in_bound_ids(ScoreRecord.person_id, "states_people", dialect) if of_people
              else None)
    newest = _newest_records(None if no_course else bindparam("states_course"),
                             bindparam("states_link"), people=people)
    return newest.with_only_columns(Person.id, *STATE_COLUMNS)


def sync_rows(course_id: int | None, resource_link_id: int,
              reach: Any = None) -> list[tuple[Person, SyncState]]:
    """The learners with a score in the activity and its state: held for review first, then
    failed, then pending, each by name."""
    rows = db.session.execute(_newest_records(course_id, resource_link_id, reach)).all()
    order = {ScoreStatus.HELD: 0, ScoreStatus.FAILED: 1, ScoreStatus.PENDING: 2}
    return sorted(
        ((person, SyncState.of(record)) for record, person in rows),
        key=lambda row: (order.get(row[1].status, 2), row[0].display_name.casefold()),
    )


def _newest_in_activity(course_id: int | None, resource_link_id: int,
                        record_id: int, reach: Any = None) -> ScoreRecord:
    """The record if it is a learner's newest in the launch's activity and course (and a
    learner the mentor reaches, when `reach` says whom).

    NotRetryable for an older record of the activity, RecordNotFound for anything else.
    """
    rows = db.session.execute(
        _newest_records(course_id, resource_link_id, reach).where(ScoreRecord.id == record_id)
    ).first()
    if rows is None and reach is not None and db.session.scalar(
            select(ScoreRecord.id).where(ScoreRecord.id == record_id, reach)) is None:
        raise RecordNotFound(f"score {record_id} is not of a learner this mentor reaches")
    if rows is None:
        older = db.session.get(ScoreRecord, record_id)
        if older is not None and older.resource_link_id == resource_link_id and (
            older.resource_link.course_id == course_id
        ):
            raise NotRetryable(_l("a newer score of this learner replaced this one"))
        raise RecordNotFound(f"no score {record_id} in this activity")
    return rows[0]


def _pending_from(record: ScoreRecord, now: datetime | None) -> ScoreRecord:
    now = now or utcnow()
    record.status = ScoreStatus.PENDING
    record.attempts = 0
    record.next_try_dt = now
    record.pending_since_dt = now
    db.session.flush()
    return record


def retry(course_id: int | None, resource_link_id: int, record_id: int,
          now: datetime | None = None, reach: Any = None) -> ScoreRecord:
    """Send a failed score again: pending from now, with a fresh retry period."""
    record = _newest_in_activity(course_id, resource_link_id, record_id, reach)
    if record.status is not ScoreStatus.FAILED:
        raise NotRetryable(_l("this score is sent, not failed") if record.status is ScoreStatus.SENT
                           else _l("this score is pending, not failed"))
    return _pending_from(record, now)


def release(course_id: int | None, resource_link_id: int, record_id: int,
            now: datetime | None = None, reach: Any = None) -> ScoreRecord:
    """A mentor has reviewed a held (or withheld) score and lets it go to the LMS now."""
    record = _newest_in_activity(course_id, resource_link_id, record_id, reach)
    if record.status not in (ScoreStatus.HELD, ScoreStatus.WITHHELD):
        raise NotHeld(_l("this score is not held for review"))
    return _pending_from(record, now)


def withhold(course_id: int | None, resource_link_id: int, record_id: int,
             reach: Any = None) -> ScoreRecord:
    """A mentor has reviewed a held score and keeps it from the LMS (it can be released later)."""
    record = _newest_in_activity(course_id, resource_link_id, record_id, reach)
    if record.status is not ScoreStatus.HELD:
        raise NotHeld(_l("this score is not held for review"))
    record.status = ScoreStatus.WITHHELD
    db.session.flush()
    return record


@dataclass(frozen=True)
class SettingsOverview:
    """The settings page: mode, line item, and why grades may not reach the LMS."""

    settings: GradeSettings
    link: ResourceLink
    problem: str | None
    #: "sent", "pending", "failed" → how many learners' newest scores are in that state.
    counts: dict[str, int]


def overview(resource_link_id: int, custom: dict | None = None) -> SettingsOverview:
    """The activity's grade settings (made on first use) and its scores counted by state."""
    settings = grade_settings(resource_link_id, custom)
    link = settings.resource_link
    newest = sync_states(link.course_id, link.id).values()
    counts = {status.value: 0 for status in ScoreStatus if status is not ScoreStatus.SUPERSEDED}
    for state in newest:
        counts[state.status.value] += 1
    return SettingsOverview(
        settings, link, static_problem(link) or settings.lineitem_problem, counts
    )


def change_mode(resource_link_id: int, mode: GradeMode, custom: dict | None = None,
                now: datetime | None = None) -> int:
    """Set the activity's grade mode; learners' scores so far are sent again in it.

    Returns how many scores were recorded anew.
    """
    settings = grade_settings(resource_link_id, custom)
    if settings.grade_mode is mode:
        return 0
    settings.grade_mode = mode
    link = settings.resource_link
    again = 0
    for state in sync_states(link.course_id, link.id).values():
        record = db.session.get(ScoreRecord, state.record_id)
        add_record(settings, record.person_id, record.result_id, record.overall, now,
                   quality_flagged=record.quality_flagged)
        again += 1
    db.session.flush()
    return again
