"""The cohort of the launch's activity for its mentors: every learner with their state.

The cohort is one SQL query (CohortSql): a row per learner the mentor reaches, with their
latest attempt (and its answer count while in progress) and latest result joined by the
attempts' markers (Attempt.latest, Attempt.latest_submitted), and the expressions for
status, scores and names (each person's stored name key, identity/names.py). listing.py
filters, sorts and pages with it in the database, so a page costs the same number of queries
for 10 learners as for 10,000 and Python builds only the rows it shows; export.py writes the
CSV from batches.

Attempts count within the launch's activity (resource link), as the questionnaire,
retakes and grades do; a launch without one counts the whole course.
"""

from __future__ import annotations

import enum
import itertools
import json
import threading
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache, cached_property
from typing import Any

from flask_babel import gettext
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    case,
    cast,
    func,
    inspect,
    select,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import visitors

from lti_tool.extensions import db
from lti_tool.gradebook.status import SyncState, sync_states
from lti_tool.i18n import format_day
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Membership, Person, Role
from lti_tool.identity.names import by_code_point, casefold
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.scope import Reach, caseload_ids, reach_condition, reach_of
from lti_tool.questionnaire.instrument import Instrument, instrument_key
from lti_tool.questionnaire.interpretation import Precision, read_scores
from lti_tool.questionnaire.models import Answer, Attempt, Result
from lti_tool.questionnaire.reference import precision_for
from lti_tool.questionnaire.scoring import QualityFlags
from lti_tool.questionnaire.versions import current_instrument, get_instrument


class Status(enum.StrEnum):
    """Where a learner stands with the questionnaire in this activity."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    #: Completed, and the response quality checks flagged something.
    FLAGGED = "flagged"

    @property
    def label(self) -> str:
        """The status as mentors read it."""
        return {
            "not_started": _l("Not started"), "in_progress": _l("In progress"),
            "completed": _l("Completed"), "flagged": _l("Flagged response quality"),
        }[self.value]


class NoCohort(Exception):
    """The launch has no course, so there is no cohort to show."""


@dataclass(frozen=True)
class LearnerRow:
    """One learner of the cohort, as the mentor's table, filters and export see them."""

    person_id: int
    name: str
    email: str | None
    #: False once the learner has left the course roster; their data stays.
    active: bool
    status: Status
    #: Answers given in the latest attempt while it is in progress, and how many it has.
    answered: int | None
    total: int | None
    latest_attempt_id: int | None
    latest_number: int | None
    retake_allowed: bool
    #: The latest submitted attempt's result (a retake in progress keeps showing it).
    result_attempt_id: int | None
    submitted_dt: datetime | None
    overall: float | None
    #: The latest result's response-quality flags (none without a result).
    quality: QualityFlags
    grade_state: Any = None
    #: The instrument version of the latest result ("design_mindset@1"), None without one.
    result_instrument: str | None = None
    #: The result's dimension scores as stored (JSON text): decoding them for every learner
    #: would cost more than the rest of the page, so it waits until asked.
    scores_json: str | None = field(default=None, repr=False)

    @cached_property
    def scores(self) -> dict[str, float]:
        """Dimension id → 1..10 score of the latest result (empty without one)."""
        stored = json.loads(self.scores_json) if self.scores_json else {}
        return {key: float(entry["score"]) for key, entry in stored.items()}

    @property
    def has_result(self) -> bool:
        """Whether the learner has a submitted, scored attempt."""
        return self.overall is not None

    @property
    def flagged(self) -> bool:
        """Whether the latest result's response quality was flagged."""
        return not self.quality.ok

    def status_text(self) -> str:
        """The status in one phrase: "In progress: 12 of 46", "Completed on 2 Mar 2026"."""
        # Translated now, not lazily: a page shows it at once, 50 times.
        if self.status is Status.IN_PROGRESS:
            return gettext("In progress: %(answered)s of %(total)s", answered=self.answered,
                           total=self.total)
        # The date as every other page writes it (i18n.DATE_FORMATS), in the page's language.
        day = format_day(self.submitted_dt) if self.submitted_dt else ""
        if self.status is Status.FLAGGED:
            return gettext("Completed on %(day)s, response quality flagged", day=day)
        if self.status is Status.COMPLETED:
            return gettext("Completed on %(day)s", day=day)
        return str(Status.NOT_STARTED.label)


@dataclass(frozen=True)
class Cohort:
    """Every learner of the launch's course with their state in its activity.

    `instrument` is the current version: its dimensions name the filters and columns. Each
    learner's result is read with the version it was answered with (`instruments`).
    """

    course_id: int
    instrument: Instrument
    rows: tuple[LearnerRow, ...]
    #: False for a launch without an activity: no grade column then.
    grades_available: bool
    #: Every version the rows' results were answered with, by key, and its precision.
    instruments: dict[str, Instrument] = field(default_factory=dict)
    precisions: dict[str, Precision] = field(default_factory=dict)

    @property
    def dimension_ids(self) -> list[str]:
        """The current version's dimensions, then any other that a result's version has."""
        ids = [dimension.id for dimension in self.instrument.dimensions]
        for instrument in self.instruments.values():
            ids += [d.id for d in instrument.dimensions if d.id not in ids]
        return ids

    def dimension_name(self, dimension_id: str, locale: str | None) -> str:
        """A dimension's name in the launch locale (its id when no version has it)."""
        for instrument in (self.instrument, *self.instruments.values()):
            try:
                return instrument.dimension(dimension_id).name.get(locale)
            except KeyError:
                continue
        return dimension_id

    def strengths(self, row: LearnerRow, locale: str | None) -> list[str]:
        """The names of a learner's strengths by evidence (empty without a result)."""
        if row.result_instrument is None or not row.scores:
            return []
        instrument = self.instruments[row.result_instrument]
        reading = read_scores(instrument, row.scores, self.precisions[row.result_instrument])
        return [instrument.dimension(entry.dimension_id).name.get(locale)
                for entry in reading.strengths]


#: The bound parameters of every cohort statement (CohortSql.params gives their values).
COURSE = bindparam("cohort_course", type_=Integer)
#: At most this many statements are kept per cohort shape (CohortSql.statement); the oldest
#: goes first. Mentors use a handful of filters and sorts; a crawler of every combination
#: must not grow a process's memory without end.
MAX_BUILT = 256
LINK = bindparam("cohort_link", type_=Integer)
MENTOR = bindparam("cohort_mentor", type_=Integer)


@dataclass(frozen=True)
class CohortSql:
    """The cohort as one SQL query: a row per learner the launch's mentor reaches, with their
    latest attempt and latest result joined, and the expressions filters and sorts need.

    `query` selects the columns LearnerRow is made from; listing.py adds conditions, order,
    limits or aggregates. Each learner's latest attempt and latest submitted attempt are
    joined by their markers (_newest_attempt), as ranked_attempts ranks them.

    The statements are built once per shape (an activity or not, the mentor's reach, caseload
    only or not) and take the launch's course, activity and mentor as bound parameters:
    execute them with `params`.
    """

    query: Select
    person_id: ColumnElement[int]
    active: ColumnElement[bool]
    #: Status values (Status.value) and their position in Status, for sorting.
    status: ColumnElement[str]
    status_rank: ColumnElement[int]
    #: Answers of the latest attempt while it is in progress, else NULL.
    answered: ColumnElement[int]
    overall: ColumnElement[float]
    submitted_dt: ColumnElement[datetime]
    has_result: ColumnElement[bool]
    #: The latest result's response quality was flagged (NULL without a result).
    result_flagged: ColumnElement[bool]
    name_key: ColumnElement[str]
    email_key: ColumnElement[str]
    result_scores: Any
    #: The parts the query joins to the learners' memberships, each with the tables it adds:
    #: the person (names, e-mail), their latest attempt and its result, their latest
    #: submitted attempt and its result.
    parts: tuple[tuple[str, frozenset[Any]], ...] = ()
    #: The memberships (selecting the learner's id) with each combination of parts joined.
    joins: Mapping[frozenset[str], Select] = field(default_factory=dict)
    #: The launch's values of the bound parameters.
    params: Mapping[str, Any] = field(default_factory=dict)
    #: Statements built from these (see `statement`), shared by every launch's copy.
    built: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)
    building: threading.Lock = field(default_factory=threading.Lock, compare=False,
                                     repr=False)

    def score(self, dimension_id: str) -> ColumnElement[float]:
        """A dimension's 1..10 score in the latest result (NULL without one)."""
        return self.result_scores[(dimension_id, "score")].as_float()

    def narrowest(self, *expressions: Any) -> Select:
        """The query (selecting the learner's id) with only the joins these expressions read:
        each join finds exactly one person or at most one attempt and result, so leaving one
        out changes no count or order, and the database reads people, attempts and results
        only when asked about them."""
        touched = {getattr(element, "table", None)
                   for expression in expressions for element in visitors.iterate(expression)}
        return self.joins[frozenset(name for name, tables in self.parts if touched & tables)]

    def statement(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The statement `build` makes, made once per key and kept: SQLAlchemy works out a
        statement's cache key once per object, walking all of it, so a statement built
        afresh for every page costs that walk (and the building) on every page. The key must
        name everything the statement is built from; values vary as bound parameters."""
        found = self.built.get(key)
        if found is not None:
            return found
        made = build()
        with self.building:
            while key not in self.built and len(self.built) >= MAX_BUILT:
                del self.built[next(iter(self.built))]
            return self.built.setdefault(key, made)

    def execute(self, statement: Any, values: Mapping[str, Any] | None = None,
                **options: Any) -> Any:
        """Run a statement built from this cohort's with the launch's parameters and
        `values` for any others it binds."""
        return db.session.execute(statement, {**self.params, **(values or {})}, **options)


def cohort_sql(launch: LaunchContext, caseload_only: bool = False) -> CohortSql:
    """The launch's cohort as SQL: the learners of its course whom its mentor reaches (see
    scope.py), or only their caseload, with their latest attempt and result."""
    if launch.course_id is None:
        raise NoCohort("this launch has no course")
    built = _cohort_statements(launch.resource_link_id is not None, reach_of(launch),
                               caseload_only)
    return replace(built, params={"cohort_course": launch.course_id,
                                  "cohort_link": launch.resource_link_id,
                                  "cohort_mentor": launch.person_id})


@cache
def _cohort_statements(in_activity: bool, reach: Reach, caseload_only: bool) -> CohortSql:
    latest = aliased(Attempt, name="latest")
    chosen = aliased(Attempt, name="chosen")
    answered_count = (
        select(func.count(Answer.id)).where(Answer.attempt_id == latest.id).scalar_subquery()
    )
    # Counted only while in progress: a submitted attempt has every answer.
    in_progress = latest.id.is_not(None) & latest.submitted_dt.is_(None)
    answered = case((in_progress, answered_count), else_=None)
    has_result = Result.id.is_not(None)
    # A submitted latest attempt is also the latest submitted one, so the status needs only
    # the latest attempt and its result: counting statuses skips the other look-ups.
    latest_result = aliased(Result, name="latest_result")
    status_cases = [
        (latest.id.is_(None), Status.NOT_STARTED),
        (latest.submitted_dt.is_(None), Status.IN_PROGRESS),
        # Result.flagged is stored as `not quality.ok` (Result.from_profile).
        (latest_result.flagged.is_(True), Status.FLAGGED),
    ]
    status = case(*((when, value.value) for when, value in status_cases),
                  else_=Status.COMPLETED.value)
    order = {value: position for position, value in enumerate(Status)}
    status_rank = case(*((when, order[value]) for when, value in status_cases),
                       else_=order[Status.COMPLETED])
    submitted_dt = case((has_result, chosen.submitted_dt), else_=None)
    learners = (
        select(Membership.person_id)
        .where(Membership.course_id == COURSE, Membership.role == Role.LEARNER,
               reach_condition(reach, Membership.person_id, COURSE, MENTOR))
    )
    if caseload_only:
        learners = learners.where(Membership.person_id.in_(caseload_ids(COURSE, MENTOR)))

    def joined(parts: Collection[str]) -> Select:
        query = learners
        if "person" in parts:
            query = query.join(Person, Person.id == Membership.person_id)
        if "latest" in parts:
            query = (query
                     .outerjoin(latest, _newest_attempt(latest, in_activity, submitted=False))
                     .outerjoin(latest_result, (latest_result.attempt_id == latest.id)
                                & latest_result.overall.is_not(None)))
        if "result" in parts:
            query = (query
                     .outerjoin(chosen, _newest_attempt(chosen, in_activity, submitted=True))
                     .outerjoin(Result, (Result.attempt_id == chosen.id)
                                & Result.overall.is_not(None)))
        return query

    parts = (("person", frozenset({Person.__table__})),
             ("latest", frozenset({inspect(latest).selectable,
                                   inspect(latest_result).selectable})),
             ("result", frozenset({inspect(chosen).selectable, Result.__table__})))
    names = [name for name, _tables in parts]
    joins = {frozenset(chosen_parts): joined(chosen_parts)
             for size in range(len(names) + 1)
             for chosen_parts in itertools.combinations(names, size)}
    query = joins[frozenset(names)].with_only_columns(
        Person.id, Person.platform_id, Person.sub, Person.name, Person.given_name,
        Person.family_name, Person.email, Membership.active,
        latest.id.label("latest_id"), latest.number.label("latest_number"),
        latest.submitted_dt.label("latest_submitted_dt"),
        latest.instrument_id.label("latest_instrument_id"),
        latest.instrument_version.label("latest_instrument_version"),
        latest.retake_allowed_dt.label("retake_allowed_dt"),
        answered.label("answered"),
        Result.attempt_id.label("result_attempt_id"), submitted_dt.label("submitted_dt"),
        chosen.instrument_id.label("result_instrument_id"),
        chosen.instrument_version.label("result_instrument_version"),
        Result.overall, Result.quality_flags,
        # As text, decoded only when needed (see LearnerRow.scores).
        cast(Result.dimension_scores, Text).label("scores_json"),
    )
    return CohortSql(
        query=query, person_id=Membership.person_id, active=Membership.active, status=status,
        status_rank=status_rank, answered=answered, overall=Result.overall,
        submitted_dt=submitted_dt, has_result=has_result, result_flagged=Result.flagged,
        name_key=by_code_point(Person.name_key),
        email_key=casefold(func.coalesce(Person.email, "")),
        result_scores=Result.dimension_scores, parts=parts, joins=joins,
    )


def _newest_attempt(attempt: Any, in_activity: bool, submitted: bool) -> ColumnElement[bool]:
    """The join condition of the learner's (Person's) latest attempt in the launch's activity,
    or of their latest submitted one: the attempt marked so (Attempt.latest,
    Attempt.latest_submitted), one join along a partial index whatever the course's size.

    A launch without an activity counts the whole course: there the attempt is looked up
    per learner along the (person, activity, number) index, the highest number first.
    """
    if in_activity:
        marker = attempt.latest_submitted if submitted else attempt.latest
        return ((attempt.person_id == Membership.person_id)
                & (attempt.resource_link_id == LINK)
                & (attempt.course_id == COURSE) & marker)
    scope = [Attempt.person_id == Membership.person_id, Attempt.course_id == COURSE]
    if submitted:
        scope.append(Attempt.submitted_dt.is_not(None))
    newest = (select(Attempt.id).where(*scope).order_by(Attempt.number.desc()).limit(1)
              .correlate(Membership).scalar_subquery())
    return attempt.id == newest


def learner_rows(found: Iterable[Any], states: dict[int, Any] | None) -> list[LearnerRow]:
    """LearnerRows from rows of CohortSql.query (and the gradebook's states, if any)."""
    return [_row(row, states) for row in found]


def cohort_of(launch: LaunchContext, rows: Sequence[LearnerRow], grades_available: bool,
              instrument_keys: Iterable[str] = ()) -> Cohort:
    """A Cohort of these rows: the current instrument and every version their results (and
    `instrument_keys`) were answered with."""
    keys = {row.result_instrument for row in rows if row.result_instrument} | set(instrument_keys)
    instruments = {key: get_instrument(*_split_key(key)) for key in sorted(keys)}
    return Cohort(launch.course_id, current_instrument(), tuple(rows), grades_available,
                  instruments=instruments,
                  precisions={key: precision_for(found) for key, found in instruments.items()})


def load_cohort(launch: LaunchContext, caseload_only: bool = False) -> Cohort:
    """Every learner of the launch's cohort (those who left included), in no set order.

    Pages and the export read only what they show (listing.py); this serves small courses
    and tests.
    """
    sql = cohort_sql(launch, caseload_only)
    states = grade_states(launch.course_id, launch.resource_link_id)
    rows = learner_rows(sql.execute(sql.query), states)
    return cohort_of(launch, rows, states is not None)


def _split_key(key: str) -> tuple[str, int]:
    instrument_id, version = key.rsplit("@", 1)
    return instrument_id, int(version)


class _Named:
    """Just enough of a Person, from plain columns, for Person's own display name rules.

    Loading Person objects costs more than the rest of the page; borrowing the properties
    keeps one definition of how a name (or the pseudonym) is chosen.
    """

    __slots__ = ("platform_id", "sub", "name", "given_name", "family_name")
    pseudonym = Person.pseudonym
    display_name = Person.display_name

    def __init__(self, row: Any) -> None:
        for column in self.__slots__:
            setattr(self, column, getattr(row, column))


def ranked_attempts(course_id: int, resource_link_id: int | None):
    """A subquery of the activity's attempts ranked per person (window functions).

    `latest_rank` 1 is each person's latest attempt; `result_rank` 1 is their latest
    submitted one when they have any (submitted attempts rank before unsubmitted ones).
    """
    scope = [Attempt.course_id == course_id]
    if resource_link_id is not None:
        scope.append(Attempt.resource_link_id == resource_link_id)
    return (
        select(
            Attempt.id, Attempt.person_id, Attempt.number, Attempt.submitted_dt,
            Attempt.instrument_id, Attempt.instrument_version, Attempt.retake_allowed_dt,
            func.row_number().over(
                partition_by=Attempt.person_id, order_by=Attempt.number.desc()
            ).label("latest_rank"),
            func.row_number().over(
                partition_by=Attempt.person_id,
                order_by=(case((Attempt.submitted_dt.is_(None), 1), else_=0),
                          Attempt.number.desc()),
            ).label("result_rank"),
        )
        .where(*scope)
        .subquery()
    )


def grade_states(course_id: int, resource_link_id: int | None,
                 person_ids: Collection[int] | None = None) -> dict[int, SyncState] | None:
    """Person id → the gradebook's sync state of their newest score in the launch's activity
    (of `person_ids` only, when given); None for a launch without an activity (the column is
    then left out)."""
    if resource_link_id is None:
        return None
    return sync_states(course_id, resource_link_id, person_ids)


def grade_state_text(state: Any) -> str:
    """A grade sync state for people: "Sent", "Pending", "Failed"; "—" when there is none."""
    if state is None:
        return "—"
    value = str(getattr(getattr(state, "status", state), "value", state))
    known = {"sent": _l("Sent"), "pending": _l("Pending"), "failed": _l("Failed"),
             "superseded": _l("Superseded"), "held": _l("Held for review"),
             "withheld": _l("Withheld")}
    return known.get(value) or value.replace("_", " ").capitalize()


def grade_state_detail(state: Any) -> str | None:
    """The platform's last answer for a score that could not be sent, when there is one."""
    return getattr(state, "last_error", None) or None


def _row(found: Any, states: dict[int, Any] | None) -> LearnerRow:
    status, answered, total = Status.NOT_STARTED, None, None
    quality = QualityFlags.from_list(found.quality_flags if found.overall is not None else None)
    if found.latest_id is not None and found.latest_submitted_dt is None:
        status, answered = Status.IN_PROGRESS, found.answered or 0
        total = len(get_instrument(found.latest_instrument_id,
                                   found.latest_instrument_version).items)
    elif found.latest_id is not None:
        status = Status.FLAGGED if not quality.ok else Status.COMPLETED
    has_result = found.overall is not None
    return LearnerRow(
        person_id=found.id,
        name=_Named(found).display_name,
        email=found.email,
        active=bool(found.active),
        status=status,
        answered=answered,
        total=total,
        latest_attempt_id=found.latest_id,
        latest_number=found.latest_number,
        retake_allowed=bool(found.latest_id is not None and found.retake_allowed_dt is not None),
        result_attempt_id=found.result_attempt_id if has_result else None,
        submitted_dt=found.submitted_dt if has_result else None,
        overall=found.overall,
        quality=quality,
        grade_state=(states or {}).get(found.id),
        result_instrument=(instrument_key(found.result_instrument_id,
                                          found.result_instrument_version)
                           if has_result else None),
        scores_json=found.scores_json if has_result else None,
    )
