"""The learner's results as a view-model: scores, highlights, the chart and the course average."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from lti_tool.extensions import db
from lti_tool.questionnaire.chart import Series, radar_svg
from lti_tool.questionnaire.delivery import AttemptNotFound, instrument_for
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.models import Attempt, Result
from lti_tool.questionnaire.scoring import MIN_COHORT_SIZE, Profile, cohort_average, display


@dataclass(frozen=True)
class DimensionView:
    """One dimension as the learner reads it, in the launch locale."""

    id: str
    name: str
    area: str
    score: float
    score_text: str
    description: str
    strength: str
    suggestions: tuple[str, ...]
    cohort_score: float | None
    cohort_text: str | None


@dataclass(frozen=True)
class CourseAverage:
    """The course's average per dimension over the latest submitted result of each learner."""

    learners: int
    #: Dimension id → mean score; None below MIN_COHORT_SIZE learners (it would expose them).
    scores: dict[str, float] | None

    @property
    def shown(self) -> bool:
        """Whether enough learners have submitted for the average to be shown."""
        return self.scores is not None


@dataclass(frozen=True)
class ResultsView:
    """Everything the results page shows."""

    title: str
    attempt_number: int
    submitted_dt: datetime
    overall: float
    overall_text: str
    dimensions: tuple[DimensionView, ...]
    strengths: tuple[DimensionView, ...]
    improvements: tuple[DimensionView, ...]
    chart_svg: Markup
    course_average: CourseAverage
    quality_notes: tuple[str, ...]
    min_cohort: int = MIN_COHORT_SIZE


def results_view(attempt: Attempt, locale: str | None) -> ResultsView:
    """The results page of a submitted attempt (found within the launch's scope)."""
    result = attempt.result
    if result is None:
        raise AttemptNotFound(f"attempt {attempt.id} has no result yet")
    instrument = instrument_for(attempt)
    profile = result.profile()
    average = course_average(attempt.course_id, instrument)
    dimensions = tuple(
        _dimension_view(instrument, profile, dimension_id, average, locale)
        for dimension_id in (dimension.id for dimension in instrument.dimensions)
    )
    by_id = {entry.id: entry for entry in dimensions}
    return ResultsView(
        title=instrument.title.get(locale),
        attempt_number=attempt.number,
        submitted_dt=attempt.submitted_dt,
        overall=profile.overall,
        overall_text=display(profile.overall, locale),
        dimensions=dimensions,
        strengths=tuple(by_id[dimension_id] for dimension_id in profile.strengths),
        improvements=tuple(by_id[dimension_id] for dimension_id in profile.improvements),
        chart_svg=_chart(dimensions, average),
        course_average=average,
        quality_notes=profile.quality.reasons,
    )


def course_average(course_id: int | None, instrument: Instrument) -> CourseAverage:
    """The course average for this instrument version, counting each learner's latest result."""
    if course_id is None:
        return CourseAverage(0, None)
    rows = db.session.scalars(
        select(Result)
        .join(Result.attempt)
        .options(contains_eager(Result.attempt))
        .where(
            Attempt.course_id == course_id,
            Attempt.instrument_id == instrument.id,
            Attempt.instrument_version == instrument.version,
            Attempt.submitted_dt.is_not(None),
        )
        .order_by(Attempt.person_id, Attempt.number.desc())
    )
    latest: dict[int, Profile] = {}
    for result in rows:
        # A retake replaces the learner's earlier result; one voice per learner.
        if result.attempt.person_id not in latest:
            latest[result.attempt.person_id] = result.profile()
    profiles = list(latest.values())
    return CourseAverage(len(profiles), cohort_average(profiles, min_n=MIN_COHORT_SIZE))


def _dimension_view(
    instrument: Instrument,
    profile: Profile,
    dimension_id: str,
    average: CourseAverage,
    locale: str | None,
) -> DimensionView:
    dimension = instrument.dimension(dimension_id)
    value = profile.dimension_score(dimension_id)
    cohort = average.scores[dimension_id] if average.scores is not None else None
    return DimensionView(
        id=dimension_id,
        name=dimension.name.get(locale),
        area=instrument.area(dimension.area_id).title.get(locale),
        score=value,
        score_text=display(value, locale),
        description=dimension.description.get(locale),
        strength=dimension.strength.get(locale),
        suggestions=tuple(text.get(locale) for text in dimension.suggestions),
        cohort_score=cohort,
        cohort_text=display(cohort, locale) if cohort is not None else None,
    )


def course_average_label(learners: int) -> str:
    """The chart legend's name for the course average series."""
    return ngettext("Course average (%(num)d learner)", "Course average (%(num)d learners)",
                    learners)


def _chart(dimensions: tuple[DimensionView, ...], average: CourseAverage) -> Markup:
    # The chart's words follow the page's language (Flask-Babel; English outside a request).
    series = [Series(_("You"), [entry.score for entry in dimensions], "learner")]
    if average.shown:
        series.append(Series(
            course_average_label(average.learners),
            [entry.cohort_score for entry in dimensions],
            "cohort",
        ))
    if average.shown:
        description = ngettext(
            "Your scores on %(num)d dimension, from 1 to 10, with the course average as a "
            "dashed line. The table beside the chart lists the same values.",
            "Your scores on %(num)d dimensions, from 1 to 10, with the course average as a "
            "dashed line. The table beside the chart lists the same values.", len(dimensions))
    else:
        description = ngettext(
            "Your scores on %(num)d dimension, from 1 to 10. The table beside the chart lists "
            "the same values.",
            "Your scores on %(num)d dimensions, from 1 to 10. The table beside the chart lists "
            "the same values.", len(dimensions))
    # chart.py builds the SVG with ElementTree, which escapes every text and attribute.
    return Markup(radar_svg(
        [entry.name for entry in dimensions], series,
        title=_("Your Design Thinking mindset profile"), description=description,
        chart_id="profile-chart",
    ))
