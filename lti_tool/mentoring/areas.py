"""A learner's latest result in a course as mentoring uses it: areas to develop for a
session's agenda, and each dimension's development suggestions as starting points for goals.

Everything is read with the instrument version of the learner's result; the current version
only stands in while the learner has no result at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from lti_tool.extensions import db
from lti_tool.questionnaire.delivery import instrument_for
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.models import Attempt, Result
from lti_tool.questionnaire.results import reading_of
from lti_tool.questionnaire.versions import current_instrument


@dataclass(frozen=True)
class DimensionChoice:
    """A dimension a goal may develop, with the learner's score and ways to develop it."""

    id: str
    name: str
    #: The latest result's score (1..10) and its SEM, None without a result.
    score: float | None
    sem: float | None
    #: One of the result's areas to develop (these come first).
    to_develop: bool
    suggestions: tuple[str, ...]


def latest_result(course_id: int, person_id: int) -> Result | None:
    """The person's most recently submitted result in the course, with its attempt."""
    return db.session.scalar(
        select(Result)
        .join(Result.attempt)
        .options(contains_eager(Result.attempt))
        .where(Attempt.course_id == course_id, Attempt.person_id == person_id,
               Attempt.submitted_dt.is_not(None))
        .order_by(Attempt.submitted_dt.desc(), Attempt.id.desc())
        .limit(1)
    )


def instrument_of(result: Result | None) -> Instrument:
    """The instrument version the result was scored with (the current one without a result)."""
    return instrument_for(result.attempt) if result is not None else current_instrument()


def improvement_names(course_id: int, person_id: int, locale: str | None) -> list[str]:
    """The names of the learner's areas to develop, furthest below first (empty without)."""
    result = latest_result(course_id, person_id)
    if result is None:
        return []
    instrument, reading = reading_of(result)
    return [instrument.dimension(entry.dimension_id).name.get(locale) for entry in reading.areas]


def default_agenda(course_id: int, person_id: int, locale: str | None) -> str:
    """A first agenda for a session: the results, then each area to develop; without a
    submitted questionnaire it starts from completing it (there is no profile to review)."""
    # In the language of whoever books: the agenda is written once, like a typed one.
    if latest_result(course_id, person_id) is None:
        lines = [_("Complete the questionnaire (not submitted yet)"),
                 _("First look at the Design Mindset profile")]
    else:
        lines = [_("Review of the Design Mindset profile")]
    lines += [_("Area to develop: %(name)s", name=name)
              for name in improvement_names(course_id, person_id, locale)]
    lines.append(_("Goals and next steps"))
    return "\n".join(f"- {line}" for line in lines)


def dimension_choices(course_id: int, person_id: int, locale: str | None) -> list[DimensionChoice]:
    """Every dimension with the learner's score and suggestions; areas to develop first."""
    result = latest_result(course_id, person_id)
    if result is None:
        instrument, readings, improvements = current_instrument(), {}, []
    else:
        instrument, reading = reading_of(result)
        readings = {entry.dimension_id: entry for entry in reading.dimensions}
        improvements = [entry.dimension_id for entry in reading.areas]
    order = improvements + [d.id for d in instrument.dimensions if d.id not in improvements]
    choices = []
    for dimension_id in order:
        dimension = instrument.dimension(dimension_id)
        entry = readings.get(dimension_id)
        choices.append(DimensionChoice(
            id=dimension.id,
            name=dimension.name.get(locale),
            score=entry.score if entry else None,
            sem=entry.sem if entry else None,
            to_develop=dimension.id in improvements,
            suggestions=tuple(text.get(locale) for text in dimension.suggestions),
        ))
    return choices


def dimension_names(instrument: Instrument, dimension_ids: list[str],
                    locale: str | None) -> list[str]:
    """Names of dimensions in an instrument version (an unknown id stays as it is)."""
    names = []
    for dimension_id in dimension_ids:
        try:
            names.append(instrument.dimension(dimension_id).name.get(locale))
        except KeyError:
            names.append(dimension_id)
    return names
