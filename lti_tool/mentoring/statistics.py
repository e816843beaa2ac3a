"""Cohort statistics for mentors: per dimension mean, spread, distribution and reliability.

The figures come from the raw answers of each active learner's latest submitted attempt in
the activity, through scoring.cohort_statistics. Mentors see every learner anyway, so mean,
standard deviation and distribution appear from 2 responses. Reliability (Cronbach's alpha
with Feldt's 95% interval, and each item's corrected item–total correlation) comes from the
unflagged responses only, and only from MIN_REFERENCE_GROUP of them (item_analysis.py):
below that it says nothing reliable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Membership, Role
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.cohort import (
    CohortSql,
    LearnerRow,
    cohort_sql,
    learner_rows,
    ranked_attempts,
)
from lti_tool.questionnaire.chart import histogram_svg
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.item_analysis import (
    REVIEW_ALPHA_GAIN,
    REVIEW_CORRELATION,
    DimensionAnalysis,
    item_analysis,
)
from lti_tool.questionnaire.measurement import MIN_REFERENCE_GROUP
from lti_tool.questionnaire.models import Answer, Result
from lti_tool.questionnaire.responses import counted
from lti_tool.questionnaire.scoring import (
    NOT_ENOUGH_RESPONSES,
    cohort_statistics,
)
from lti_tool.questionnaire.versions import current_instrument

#: A spread needs two responses; below that every figure is withheld.
MIN_SPREAD = 2
#: Why alpha is missing (scoring's words) as the page says it.
ALPHA_REASONS = {
    NOT_ENOUGH_RESPONSES: _l("not enough responses"),
    "fewer than 2 responses": _l("fewer than 2 responses"),
    "fewer than 2 items": _l("fewer than 2 items"),
    "every response has the same total, so the variance is zero":
        _l("every response has the same total, so the variance is zero"),
}


@dataclass(frozen=True)
class ItemLine:
    """One statement's figures within its dimension, as the statistics page shows them."""

    number: int
    item_id: str
    text: str
    reverse: bool
    correlation_text: str
    alpha_without_text: str
    review: bool


@dataclass(frozen=True)
class DimensionFigures:
    """One dimension's figures as the statistics page shows them."""

    id: str
    name: str
    area: str
    n: int
    mean_text: str | None
    sd_text: str | None
    alpha_text: str | None
    #: Why alpha is not shown ("not enough responses", zero variance ...), else None.
    alpha_reason: str | None
    chart_svg: Markup | None
    #: Feldt's 95% interval of alpha, "0.61 to 0.85"; None with no alpha.
    interval_text: str | None = None
    items: tuple[ItemLine, ...] = ()


@dataclass(frozen=True)
class QualitySummary:
    """How many completed responses the quality checks flagged, and whose."""

    completed: int
    flagged: int
    attention_checks: int
    straight_lining: int
    too_fast: int
    contradictions: int
    learners: tuple[LearnerRow, ...]


@dataclass(frozen=True)
class StatisticsView:
    """Everything the statistics page shows."""

    instrument_title: str
    responses: int
    #: Submitted responses left out: another instrument version, or incomplete.
    excluded: int
    dimensions: tuple[DimensionFigures, ...]
    quality: QualitySummary
    #: Unflagged responses the reliability figures come from.
    reliability_n: int = 0
    min_alpha: int = MIN_REFERENCE_GROUP
    #: The review rule's limits as the page writes them ("0.20", "0,02").
    review_correlation_text: str = ""
    review_alpha_gain_text: str = ""
    #: Responses of this version left out because a quality check flagged them.
    flagged_excluded: int = 0


def statistics_view(launch: LaunchContext, caseload_only: bool,
                    locale: str | None) -> StatisticsView:
    """Per-dimension statistics and the response-quality summary of the launch's cohort
    (its caseload only, when asked: the quality summary; the figures cover the course)."""
    sql = cohort_sql(launch, caseload_only)
    instrument = current_instrument()
    answer_sets, other_versions, flagged = _latest_answer_sets(
        instrument, launch.course_id, launch.resource_link_id)
    stats = cohort_statistics(instrument, answer_sets.values(), min_n=MIN_SPREAD)
    # The answer sets hold unflagged responses only (responses.counted), so reliability too.
    analysis = item_analysis(instrument, list(answer_sets.values()))
    numbers = {item.id: number for number, item in enumerate(instrument.items, start=1)}
    figures = []
    for dimension in instrument.dimensions:
        entry = stats.dimension(dimension.id)
        reliability = analysis.dimension(dimension.id)
        name = dimension.name.get(locale)
        alpha_reason = ALPHA_REASONS.get(reliability.reason, reliability.reason)
        chart = None
        if entry.histogram is not None:
            # The chart's words follow the page's language (Flask-Babel).
            chart = Markup(histogram_svg(
                entry.histogram, title=_("%(name)s: distribution of scores", name=name),
                description=ngettext(
                    "How many of the %(num)d learner scored each whole number from 1 to 10 on "
                    "%(name)s.",
                    "How many of the %(num)d learners scored each whole number from 1 to 10 on "
                    "%(name)s.", entry.n, name=name),
                chart_id=f"histogram-{dimension.id}",
            ))
        figures.append(DimensionFigures(
            id=dimension.id,
            name=name,
            area=instrument.area(dimension.area_id).title.get(locale),
            n=entry.n,
            mean_text=display(entry.mean, locale) if entry.mean is not None else None,
            sd_text=display(entry.sd, locale, digits=2) if entry.sd is not None else None,
            alpha_text=(display(reliability.alpha, locale, digits=2)
                        if reliability.alpha is not None else None),
            alpha_reason=alpha_reason,
            chart_svg=chart,
            interval_text=_interval_text(reliability, locale),
            items=tuple(
                ItemLine(
                    number=numbers[item.item_id], item_id=item.item_id,
                    text=instrument.item(item.item_id).text.get(locale), reverse=item.reverse,
                    correlation_text=_figure(item.corrected_total, locale),
                    alpha_without_text=_figure(item.alpha_if_deleted, locale),
                    review=item.review,
                )
                for item in reliability.items
            ),
        ))
    return StatisticsView(
        instrument_title=instrument.title.get(locale),
        responses=stats.n,
        excluded=stats.excluded + other_versions,
        dimensions=tuple(figures),
        quality=quality_summary(sql),
        reliability_n=analysis.n,
        review_correlation_text=display(REVIEW_CORRELATION, locale, digits=2),
        review_alpha_gain_text=display(REVIEW_ALPHA_GAIN, locale, digits=2),
        flagged_excluded=flagged,
    )


def _figure(value: float | None, locale: str | None) -> str:
    return "—" if value is None else display(value, locale, digits=2)


def _interval_text(reliability: DimensionAnalysis, locale: str | None) -> str | None:
    if reliability.interval is None:
        return None
    low, high = reliability.interval
    return _("%(low)s to %(high)s", low=display(low, locale, digits=2),
             high=display(high, locale, digits=2))


def quality_summary(sql: CohortSql) -> QualitySummary:
    """Counts of each quality flag over active learners' latest results.

    Two queries: a count of the completed, and the flagged learners' rows (the page lists
    each of them by name, and only a flagged result has flags to count).
    """
    completed = sql.query.where(sql.active.is_(True), sql.has_result)
    count = sql.execute(completed.with_only_columns(func.count(sql.person_id))).scalar()
    flagged = tuple(sorted(learner_rows(
        sql.execute(completed.where(sql.result_flagged.is_(True))), None),
        key=lambda row: row.name.casefold()))
    return QualitySummary(
        completed=count or 0,
        flagged=len(flagged),
        attention_checks=sum(1 for row in flagged if row.quality.failed_attention_checks),
        straight_lining=sum(1 for row in flagged if row.quality.straight_lined_pages),
        too_fast=sum(1 for row in flagged if row.quality.too_fast_pages),
        contradictions=sum(1 for row in flagged if row.quality.contradictory_pairs),
        learners=tuple(sorted(flagged, key=lambda row: row.name.casefold())),
    )


def _latest_answer_sets(
    instrument: Instrument, course_id: int, resource_link_id: int | None
) -> tuple[dict[int, dict[str, int]], int, int]:
    """Attempt id → answers of each active learner's latest submitted, unflagged attempt.

    Also returns how many of those latest attempts were answered with another instrument
    version (their answers cannot be scored with this version's items), and how many of this
    version were left out for a quality flag (responses.py). Three queries in all.
    """
    ranked = ranked_attempts(course_id, resource_link_id)
    same_version = (ranked.c.instrument_id == instrument.id) & (
        ranked.c.instrument_version == instrument.version)
    latest = [
        ranked.c.result_rank == 1, ranked.c.submitted_dt.is_not(None),
        Membership.role == Role.LEARNER, Membership.active.is_(True),
    ]
    in_course = (Membership.person_id == ranked.c.person_id) & (
        Membership.course_id == course_id)
    rows = db.session.execute(
        select(Answer.attempt_id, Answer.item_id, Answer.value)
        .join(ranked, Answer.attempt_id == ranked.c.id)
        .join(Membership, in_course)
        .join(Result, Result.attempt_id == ranked.c.id)
        .where(*latest, same_version, counted())
    )
    sets: dict[int, dict[str, int]] = defaultdict(dict)
    for attempt_id, item_id, value in rows:
        sets[attempt_id][item_id] = value
    other = db.session.scalar(
        select(func.count()).select_from(ranked).join(Membership, in_course)
        .where(*latest, ~same_version)
    )
    flagged = db.session.scalar(
        select(func.count()).select_from(ranked).join(Membership, in_course)
        .join(Result, Result.attempt_id == ranked.c.id)
        .where(*latest, same_version, ~counted())
    )
    return dict(sets), other or 0, flagged or 0
