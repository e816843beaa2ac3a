"""The cohort as the mentor's table shows it: filtered, sorted and cut into pages in SQL.

A page costs the same number of queries for 10 learners as for 10,000: one aggregate for
the counts (per status, those who left, those matching the filter), one for the page's 50
rows, and the gradebook's states and plan summaries of those 50 only. Names are filtered
and sorted by each person's stored name key, their display name casefolded
(identity/names.py). The export reads
the same query in batches (export_rows), so memory stays flat however large the course.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
)

from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.cohort import (
    Cohort,
    CohortSql,
    LearnerRow,
    Status,
    cohort_of,
    cohort_sql,
    grade_states,
    learner_rows,
)
from lti_tool.questionnaire.instrument import instrument_key
from lti_tool.questionnaire.scoring import SCORE_MAX, SCORE_MIN

PER_PAGE = 50
#: Rows the CSV export reads at a time.
EXPORT_BATCH = 500
SORTS = ("name", "status", "overall", "submitted")
#: The filter's and the page's values, bound: a page's statements are built once per shape
#: of filter and sort (CohortFilter.shape) and take these values when they run.
LOW = bindparam("filter_low", type_=Float)
HIGH = bindparam("filter_high", type_=Float)
NEEDLE = bindparam("filter_needle", type_=String)
OFFSET = bindparam("page_offset", type_=Integer)
#: The escape character of the search's LIKE patterns.
LIKE_ESCAPE = "/"


@dataclass(frozen=True)
class CohortFilter:
    """What the mentor asked for in the page's GET form; unusable values are ignored."""

    status: Status | None = None
    dimension: str | None = None
    low: float | None = None
    high: float | None = None
    search: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1
    include_left: bool = False
    #: Where mentors are assigned: "caseload" or "course" (empty: the page's default).
    view: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str], dimension_ids: Sequence[str]) -> CohortFilter:
        """Read the filter from query arguments (a bad value counts as not given)."""
        status = args.get("status") or None
        dimension = args.get("dimension") or None
        sort = args.get("sort") or "name"
        return cls(
            status=Status(status) if status in Status._value2member_map_ else None,
            dimension=dimension if dimension in dimension_ids else None,
            low=_score(args.get("min")),
            high=_score(args.get("max")),
            search=(args.get("q") or "").strip()[:100],
            sort=sort if sort in SORTS or sort in dimension_ids else "name",
            descending=args.get("dir") == "desc",
            page=_positive(args.get("page")),
            include_left=args.get("left") == "1",
            view=args.get("view") if args.get("view") in ("caseload", "course") else "",
        )

    @property
    def narrows(self) -> bool:
        """Whether a filter (not just sorting or paging) may leave learners out."""
        ranged = self.dimension and (self.low is not None or self.high is not None)
        return bool(self.status or self.search or ranged)

    def query_args(self, **changes: Any) -> dict[str, str]:
        """The filter as query arguments (for sort and page links), with `changes` applied."""
        chosen = replace(self, **changes)
        args = {
            "status": chosen.status.value if chosen.status else "",
            "dimension": chosen.dimension or "",
            "min": _number_text(chosen.low), "max": _number_text(chosen.high),
            "q": chosen.search, "sort": "" if chosen.sort == "name" else chosen.sort,
            "dir": "desc" if chosen.descending else "",
            "page": str(chosen.page) if chosen.page > 1 else "",
            "left": "1" if chosen.include_left else "",
            "view": chosen.view,
        }
        return {key: value for key, value in args.items() if value}

    @property
    def shape(self) -> CohortFilter:
        """The filter with its values left out (which bounds are given, whether a search is):
        what the SQL of `conditions` and `order` is built from."""
        return replace(self, low=None if self.low is None else SCORE_MIN,
                       high=None if self.high is None else SCORE_MAX,
                       search="?" if self.search else "", page=1, view="")

    def values(self) -> dict[str, Any]:
        """The values `conditions` binds."""
        # The search matches its text literally: % and _ are not wildcards.
        needle = self.search.casefold()
        for special in (LIKE_ESCAPE, "%", "_"):
            needle = needle.replace(special, LIKE_ESCAPE + special)
        return {LOW.key: self.low, HIGH.key: self.high, NEEDLE.key: needle}

    def conditions(self, sql: CohortSql) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions on the cohort's query, its values bound (`values`)."""
        found: list[ColumnElement[bool]] = []
        if not self.include_left:
            found.append(sql.active.is_(True))
        if self.status is Status.COMPLETED:
            # "Completed" includes completed responses whose quality was flagged.
            found.append(sql.status.in_([Status.COMPLETED.value, Status.FLAGGED.value]))
        elif self.status is not None:
            found.append(sql.status == self.status.value)
        if self.dimension and (self.low is not None or self.high is not None):
            # No IS NOT NULL: a blank score fails either comparison anyway, and each test of
            # the value reads it out of the result's JSON again.
            value = sql.score(self.dimension)
            if self.low is not None:
                found.append(value >= LOW)
            if self.high is not None:
                found.append(value <= HIGH)
        if self.search:
            found.append(or_(sql.name_key.contains(NEEDLE, escape=LIKE_ESCAPE),
                             sql.email_key.contains(NEEDLE, escape=LIKE_ESCAPE)))
        return found

    def order(self, sql: CohortSql) -> list[ColumnElement[Any]]:
        """ORDER BY for the sort: by name (casefolded, then id), or by a value with blanks
        always last and ties in name order whichever the direction."""
        by_name = [sql.name_key, sql.person_id]
        if self.sort == "name":
            return [key.desc() for key in by_name] if self.descending else by_name
        if self.sort == "status":
            values = [sql.status_rank, func.coalesce(sql.answered, 0)]
        elif self.sort == "overall":
            values = [sql.overall]
        elif self.sort == "submitted":
            values = [sql.submitted_dt]
        else:
            values = [sql.score(self.sort)]
        blanks_last = [case((value.is_(None), 1), else_=0) for value in values]
        ordered = [value.desc() if self.descending else value for value in values]
        return [*blanks_last, *ordered, *by_name]


@dataclass(frozen=True)
class CohortPage:
    """One page of the filtered, sorted cohort, and counts over the whole cohort."""

    #: The page's rows, with the instrument versions their results need.
    cohort: Cohort
    rows: tuple[LearnerRow, ...]
    matched: int
    page: int
    pages: int
    #: Learners in the course (those who left only when the filter includes them).
    learners: int
    counts: dict[Status, int]
    left: int

    @property
    def summary(self) -> tuple[tuple[Status, int], ...]:
        """Learners by where they stand, adding up to `learners`: not started, in progress,
        completed (flagged responses included: they completed too)."""
        completed = self.counts.get(Status.COMPLETED, 0) + self.counts.get(Status.FLAGGED, 0)
        return ((Status.NOT_STARTED, self.counts.get(Status.NOT_STARTED, 0)),
                (Status.IN_PROGRESS, self.counts.get(Status.IN_PROGRESS, 0)),
                (Status.COMPLETED, completed))

    @property
    def flagged(self) -> int:
        """Of the completed learners, those whose response quality was flagged."""
        return self.counts.get(Status.FLAGGED, 0)


def select_page(launch: LaunchContext, wanted: CohortFilter, caseload_only: bool = False,
                per_page: int = PER_PAGE) -> CohortPage:
    """Filter, sort and cut out the requested page (the last one when asked for more)."""
    sql = cohort_sql(launch, caseload_only)
    shape = wanted.shape
    values = wanted.values()
    counts: Counter[Status] = Counter()
    total = left = matched_count = 0
    for status, active, count, matching in sql.execute(
        sql.statement(("counts", shape), lambda: _counts(sql, shape)), values
    ):
        if not active:
            left += count
        if active or wanted.include_left:
            counts[Status(status)] += count
            total += count
        matched_count += matching or 0
    pages = max(1, math.ceil(matched_count / per_page))
    page = min(wanted.page, pages)
    found = sql.execute(
        sql.statement(("rows", shape, per_page), lambda: _rows(sql, shape, per_page)),
        {**values, OFFSET.key: (page - 1) * per_page},
    ).all()
    states = grade_states(launch.course_id, launch.resource_link_id,
                          [row.id for row in found])
    rows = learner_rows(found, states)
    return CohortPage(
        cohort=cohort_of(launch, rows, states is not None),
        rows=tuple(rows),
        matched=matched_count,
        page=page,
        pages=pages,
        learners=total,
        counts=dict(counts),
        left=left,
    )


def _counts(sql: CohortSql, shape: CohortFilter) -> Select:
    """Learners per status and whether they left, and how many of them the filter matches."""
    matched = and_(true(), *shape.conditions(sql))
    each = sql.narrowest(sql.status, matched).with_only_columns(
        sql.status.label("status"), sql.active.label("active"),
        case((matched, 1), else_=0).label("matched"),
    ).subquery()
    return (select(each.c.status, each.c.active, func.count(), func.sum(each.c.matched))
            .group_by(each.c.status, each.c.active))


def _rows(sql: CohortSql, shape: CohortFilter, per_page: int) -> Select:
    """The full rows of one page (its offset bound as OFFSET)."""
    # The page's ids first, with only the joins its filter and order read, then their full
    # rows: the database then looks up attempts and results for 50 learners, not for every
    # one (for every one only when sorting or filtering by them).
    conditions = shape.conditions(sql)
    order = shape.order(sql)
    shown = (sql.narrowest(*conditions, *order).where(*conditions)
             .order_by(*order).limit(per_page).offset(OFFSET))
    return sql.query.where(sql.person_id.in_(shown.scalar_subquery())).order_by(*order)


def result_versions(launch: LaunchContext, caseload_only: bool = False) -> list[str]:
    """The instrument versions ("design_mindset@2") of the cohort's results, whatever the
    filter: the export's columns are the same for every filter."""
    sql = cohort_sql(launch, caseload_only)
    columns = sql.query.selected_columns
    versions = sql.query.where(sql.has_result).with_only_columns(
        columns.result_instrument_id, columns.result_instrument_version).distinct()
    return [instrument_key(*found) for found in sql.execute(versions)]


def export_rows(launch: LaunchContext, wanted: CohortFilter, caseload_only: bool = False,
                batch: int | None = None) -> Iterator[LearnerRow]:
    """Every learner that passes the filter, in the requested order, read `batch` rows at a
    time (EXPORT_BATCH; a server-side cursor on PostgreSQL), each batch with its grade
    states."""
    batch = batch or EXPORT_BATCH
    sql = cohort_sql(launch, caseload_only)
    query = sql.query.where(*wanted.conditions(sql)).order_by(*wanted.order(sql))
    result = sql.execute(query.execution_options(yield_per=batch), wanted.values())
    for chunk in result.partitions():
        states = grade_states(launch.course_id, launch.resource_link_id,
                              [row.id for row in chunk])
        yield from learner_rows(chunk, states)


def _score(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw not in (None, "") else None
    except ValueError:
        return None
    if value is None or not math.isfinite(value):
        return None
    return min(max(value, SCORE_MIN), SCORE_MAX)


def _positive(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
