"""The cohort as the mentor's table shows it: filtered, sorted and cut into pages.

Everything here works on rows already loaded by cohort.load_cohort, so no choice of filter,
order or page adds an SQL query.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lti_tool.mentoring.cohort import Cohort, LearnerRow, Status
from lti_tool.questionnaire.scoring import SCORE_MAX, SCORE_MIN

PER_PAGE = 50
SORTS = ("name", "status", "overall", "submitted")


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

    def matches(self, row: LearnerRow) -> bool:
        """Whether a learner passes every filter."""
        if not self.include_left and not row.active:
            return False
        if self.status is Status.COMPLETED and row.status not in (Status.COMPLETED, Status.FLAGGED):
            return False
        if self.status not in (None, Status.COMPLETED) and row.status is not self.status:
            return False
        if self.dimension and (self.low is not None or self.high is not None):
            value = row.scores.get(self.dimension)
            if value is None:
                return False
            if self.low is not None and value < self.low:
                return False
            if self.high is not None and value > self.high:
                return False
        if self.search:
            needle = self.search.casefold()
            if needle not in row.name.casefold() and needle not in (row.email or "").casefold():
                return False
        return True


@dataclass(frozen=True)
class CohortPage:
    """One page of the filtered, sorted cohort, and counts over the whole cohort."""

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


def filtered(cohort: Cohort, wanted: CohortFilter) -> list[LearnerRow]:
    """The learners that pass the filter, in the requested order."""
    rows = [row for row in cohort.rows if wanted.matches(row)]
    return sort_rows(rows, wanted.sort, wanted.descending)


def select_page(cohort: Cohort, wanted: CohortFilter, per_page: int = PER_PAGE) -> CohortPage:
    """Filter, sort and cut out the requested page (the last one when asked for more)."""
    rows = filtered(cohort, wanted)
    pages = max(1, math.ceil(len(rows) / per_page))
    page = min(wanted.page, pages)
    listed = [row for row in cohort.rows if row.active or wanted.include_left]
    return CohortPage(
        rows=tuple(rows[(page - 1) * per_page: page * per_page]),
        matched=len(rows),
        page=page,
        pages=pages,
        learners=len(listed),
        counts=Counter(row.status for row in listed),
        left=sum(1 for row in cohort.rows if not row.active),
    )


_STATUS_ORDER = {status: position for position, status in enumerate(Status)}


def sort_rows(rows: list[LearnerRow], sort: str, descending: bool) -> list[LearnerRow]:
    """Sort by name, status, overall, submitted date or a dimension id; blanks always last."""
    def by_name(row: LearnerRow) -> tuple[str, int]:
        return row.name.casefold(), row.person_id

    if sort == "name":
        return sorted(rows, key=by_name, reverse=descending)
    if sort == "status":
        def value(row: LearnerRow) -> Any:
            return _STATUS_ORDER[row.status], row.answered or 0
    elif sort == "overall":
        def value(row: LearnerRow) -> Any:
            return row.overall
    elif sort == "submitted":
        def value(row: LearnerRow) -> Any:
            return row.submitted_dt
    else:
        def value(row: LearnerRow) -> Any:
            return row.scores.get(sort)
    present = sorted(rows, key=by_name)  # ties in name order, whatever the direction
    present = sorted((row for row in present if value(row) is not None), key=value,
                     reverse=descending)
    return present + sorted((row for row in rows if value(row) is None), key=by_name)


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
