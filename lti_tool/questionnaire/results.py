"""A result as people read it: each score with its error and band, strengths and areas by
evidence, the chart and the course average; for the learner's page and the mentor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from lti_tool.extensions import db
from lti_tool.figures import display, score_text
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.questionnaire.chart import Series, radar_svg
from lti_tool.questionnaire.delivery import AttemptNotFound, instrument_for
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.interpretation import Precision, level_of, read_scores
from lti_tool.questionnaire.measurement import (
    MIN_REFERENCE_GROUP,
    SCORE_BAND_CONFIDENCE,
    Level,
    ProfileReading,
    Standing,
    mean_error,
)
from lti_tool.questionnaire.models import Attempt, Result
from lti_tool.questionnaire.quality_notes import quality_notes
from lti_tool.questionnaire.reference import ReferenceGroup, precision_for, reference_group
from lti_tool.questionnaire.scoring import MIN_COHORT_SIZE, Profile, cohort_average

LEVEL_LABELS = {Level.LOW: _l("low"), Level.MODERATE: _l("moderate"), Level.HIGH: _l("high")}
STANDING_LABELS = {Standing.STRENGTH: _l("strength"), Standing.AREA: _l("area to develop"),
                   Standing.USUAL: _l("in your usual range")}


@dataclass(frozen=True)
class DimensionView:
    """One dimension as a reader sees it, in the page's language."""

    id: str
    name: str
    area: str
    score: float
    sem: float
    #: "5.8 (±0.9)": the score and its 68% band, written once for every page.
    score_text: str
    level: Level
    level_label: str
    #: What a score in this band looks like in behaviour.
    level_text: str
    standing: Standing
    standing_label: str
    description: str
    strength: str
    in_a_team: str
    overuse: str
    suggestions: tuple[str, ...]
    cohort_score: float | None
    cohort_text: str | None
    #: Percentile ranks in the installation's and the course's reference groups (None below
    #: MIN_REFERENCE_GROUP people), and as written for people ("62").
    percentile_installation: float | None = None
    percentile_course: float | None = None

    @property
    def percentile_installation_text(self) -> str:
        """The installation percentile as a whole number; "—" when there is none."""
        return _percentile_text(self.percentile_installation)

    @property
    def percentile_course_text(self) -> str:
        """The course percentile as a whole number; "—" when there is none."""
        return _percentile_text(self.percentile_course)


def _percentile_text(value: float | None) -> str:
    return "—" if value is None else display(value, digits=0)


@dataclass(frozen=True)
class Norms:
    """The reference groups a score is ranked in: sizes, and whether each is large enough."""

    installation_n: int
    #: None for a launch without a course.
    course_n: int | None
    min_n: int = MIN_REFERENCE_GROUP

    @property
    def installation_shown(self) -> bool:
        """Whether the installation has enough people for percentiles."""
        return self.installation_n >= self.min_n

    @property
    def course_shown(self) -> bool:
        """Whether the course has enough people for percentiles of its own."""
        return self.course_n is not None and self.course_n >= self.min_n

    @property
    def shown(self) -> bool:
        """Whether any percentile is shown."""
        return self.installation_shown or self.course_shown


@dataclass(frozen=True)
class CourseAverage:
    """The course's average per dimension over the latest submitted result of each learner."""

    learners: int
    #: Dimension id → mean score; None below MIN_COHORT_SIZE learners (it would expose them).
    scores: dict[str, float] | None
    #: Learners whose latest result was flagged for its quality, left out of the average.
    excluded: int = 0

    @property
    def shown(self) -> bool:
        """Whether enough learners have submitted for the average to be shown."""
        return self.scores is not None


@dataclass(frozen=True)
class ResultsView:
    """Everything a results page shows."""

    title: str
    instrument_key: str
    attempt_number: int
    submitted_dt: datetime
    overall: float
    overall_text: str
    dimensions: tuple[DimensionView, ...]
    strengths: tuple[DimensionView, ...]
    areas: tuple[DimensionView, ...]
    usual: tuple[DimensionView, ...]
    chart_svg: Markup
    course_average: CourseAverage
    #: The response-quality flags, each a sentence in the page's language (empty: none).
    quality_notes: tuple[str, ...]
    precision: Precision
    norms: Norms
    #: How sure a difference from the person's own mean must be to count (e.g. 90).
    strength_confidence_percent: int
    band_confidence_percent: int = round(SCORE_BAND_CONFIDENCE * 100)
    min_cohort: int = MIN_COHORT_SIZE

    @property
    def flat(self) -> bool:
        """Whether no dimension stands out from the person's own mean beyond the error."""
        return not self.strengths and not self.areas


def results_view(attempt: Attempt, locale: str | None, *, chart_name: str | None = None,
                 chart_id: str = "profile-chart") -> ResultsView:
    """The results of a submitted attempt (found within the launch's scope).

    `chart_name` names the person in the chart for a mentor; without it the chart says "You".
    """
    result = attempt.result
    if result is None:
        raise AttemptNotFound(f"attempt {attempt.id} has no result yet")
    instrument = instrument_for(attempt)
    profile = result.profile()
    precision = precision_for(instrument)
    reading = read_scores(instrument, profile.scores, precision)
    average = course_average(attempt.course_id, instrument)
    installation = reference_group(instrument)
    course = reference_group(instrument, attempt.course_id) if attempt.course_id else None
    dimensions = tuple(
        _dimension_view(instrument, profile, reading, dimension.id, average, locale,
                        installation, course)
        for dimension in instrument.dimensions
    )
    by_id = {entry.id: entry for entry in dimensions}
    overall_error = mean_error(list(precision.sems().values()))
    return ResultsView(
        title=instrument.title.get(locale),
        instrument_key=instrument.key,
        attempt_number=attempt.number,
        submitted_dt=attempt.submitted_dt,
        overall=profile.overall,
        overall_text=score_text(profile.overall, locale, overall_error),
        dimensions=dimensions,
        strengths=tuple(by_id[entry.dimension_id] for entry in reading.strengths),
        areas=tuple(by_id[entry.dimension_id] for entry in reading.areas),
        usual=tuple(entry for entry in dimensions if entry.standing is Standing.USUAL),
        chart_svg=_chart(dimensions, average, chart_name, chart_id),
        course_average=average,
        quality_notes=quality_notes(profile.quality.flags, instrument),
        precision=precision,
        norms=Norms(installation.n, course.n if course is not None else None),
        strength_confidence_percent=round(instrument.interpretation.strength_confidence * 100),
    )


def reading_of(result: Result) -> tuple[Instrument, ProfileReading]:
    """A stored result's instrument version and its strengths, areas and usual range."""
    instrument = instrument_for(result.attempt)
    scores = {key: float(entry["score"]) for key, entry in result.dimension_scores.items()}
    return instrument, read_scores(instrument, scores, precision_for(instrument))


def course_average(course_id: int | None, instrument: Instrument) -> CourseAverage:
    """The course average for this instrument version over each learner's latest result.

    A latest result flagged for its quality is left out (and counted in `excluded`): it may
    not reflect the learner, and an earlier result was replaced by it.
    """
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
    latest: dict[int, Profile | None] = {}
    for result in rows:
        # A retake replaces the learner's earlier result; one voice per learner.
        if result.attempt.person_id not in latest:
            latest[result.attempt.person_id] = None if result.flagged else result.profile()
    profiles = [profile for profile in latest.values() if profile is not None]
    return CourseAverage(len(profiles), cohort_average(profiles, min_n=MIN_COHORT_SIZE),
                         excluded=len(latest) - len(profiles))


def _dimension_view(
    instrument: Instrument,
    profile: Profile,
    reading: ProfileReading,
    dimension_id: str,
    average: CourseAverage,
    locale: str | None,
    installation: ReferenceGroup,
    course: ReferenceGroup | None,
) -> DimensionView:
    dimension = instrument.dimension(dimension_id)
    entry = reading.reading(dimension_id)
    value = profile.dimension_score(dimension_id)
    band = level_of(instrument, value)
    cohort = average.scores[dimension_id] if average.scores is not None else None
    return DimensionView(
        id=dimension_id,
        name=dimension.name.get(locale),
        area=instrument.area(dimension.area_id).title.get(locale),
        score=value,
        sem=entry.sem,
        score_text=score_text(value, locale, entry.sem),
        level=band,
        level_label=str(LEVEL_LABELS[band]),
        level_text=dimension.bands.text(band.value).get(locale),
        standing=entry.standing,
        standing_label=str(STANDING_LABELS[entry.standing]),
        description=dimension.description.get(locale),
        strength=dimension.strength.get(locale),
        in_a_team=dimension.in_a_team.get(locale),
        overuse=dimension.overuse.get(locale),
        suggestions=tuple(text.get(locale) for text in dimension.suggestions),
        cohort_score=cohort,
        cohort_text=score_text(cohort, locale) if cohort is not None else None,
        percentile_installation=installation.percentile(dimension_id, value),
        percentile_course=course.percentile(dimension_id, value) if course else None,
    )


def course_average_label(learners: int) -> str:
    """The chart legend's name for the course average series."""
    return ngettext("Course average (%(num)d learner)", "Course average (%(num)d learners)",
                    learners)


def _chart(dimensions: tuple[DimensionView, ...], average: CourseAverage,
           name: str | None, chart_id: str) -> Markup:
    # The chart's words follow the page's language (Flask-Babel; English outside a request).
    series = [Series(name or _("You"), [entry.score for entry in dimensions], "learner",
                     errors=[entry.sem for entry in dimensions])]
    if average.shown:
        series.append(Series(
            course_average_label(average.learners),
            [entry.cohort_score for entry in dimensions],
            "cohort",
        ))
    count = len(dimensions)
    if name is None:
        scores = ngettext("Your scores on %(num)d dimension, from 1 to 10",
                          "Your scores on %(num)d dimensions, from 1 to 10", count)
        title = _("Your Design Thinking mindset profile")
    else:
        scores = ngettext("Scores of %(name)s on %(num)d dimension, from 1 to 10",
                          "Scores of %(name)s on %(num)d dimensions, from 1 to 10", count,
                          name=name)
        title = _("%(name)s: Design Thinking mindset profile", name=name)
    parts = [scores + ".", _("The thick line along each axis spans the score plus or minus one "
                             "standard error of measurement.")]
    if average.shown:
        parts.append(_("The dashed line is the course average."))
    parts.append(_("The table beside the chart lists the same values."))
    # chart.py builds the SVG with ElementTree, which escapes every text and attribute.
    return Markup(radar_svg(
        [entry.name for entry in dimensions], series, title=title,
        description=" ".join(parts), chart_id=chart_id,
    ))
