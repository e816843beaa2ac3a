"""The 90-minute session as a guided workflow: a time-boxed agenda, the material each part
needs (profile, strengths and areas with debrief questions, goals), and what the learner wrote
to prepare.

A session's agenda parts are laid out the first time its guide opens: from the mentor's own
template for the course if they saved one, otherwise the default (opening 10 minutes, review
of results 20, strengths 15, areas for development 20, goals and action plan 20, close 5).
A learner without a submitted questionnaire has no profile to review: their agenda starts
from completing the questionnaire instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.areas import instrument_of, latest_result
from lti_tool.mentoring.booking import session_for_mentor
from lti_tool.mentoring.goals import learner_goals
from lti_tool.mentoring.models import (
    AgendaKind,
    AgendaPart,
    AgendaTemplate,
    Goal,
    GoalStatus,
    MentoringSession,
    Note,
    ReflectionKind,
    SessionReflection,
    SessionStatus,
)
from lti_tool.mentoring.notes import mentor_notes
from lti_tool.mentoring.scope import BadInput, course_of
from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.results import ResultsView, results_view

MAX_PART_TITLE = 200
MAX_PART_MINUTES = 240
MAX_PARTS = 12

#: The default agenda of a 90-minute session, part by part.
DEFAULT_PARTS: tuple[tuple[AgendaKind, Any, int], ...] = (
    (AgendaKind.OPENING, _l("Opening"), 10),
    (AgendaKind.RESULTS, _l("Review of the results"), 20),
    (AgendaKind.STRENGTHS, _l("Strengths"), 15),
    (AgendaKind.AREAS, _l("Areas for development"), 20),
    (AgendaKind.GOALS, _l("Goals and action plan"), 20),
    (AgendaKind.CLOSE, _l("Close"), 5),
)
#: Without a submitted questionnaire the review of results becomes this part.
QUESTIONNAIRE_PART = (AgendaKind.QUESTIONNAIRE, _l("Complete the questionnaire"), 20)
#: What each kind of part is for, shown under its heading in the guide.
PURPOSES = {
    AgendaKind.OPENING: _l("Agree what the learner wants from the session; read their "
                           "questions and preparation together."),
    AgendaKind.QUESTIONNAIRE: _l("The learner has not submitted the questionnaire yet: let "
                                 "them complete it now, or talk about what keeps them from it. "
                                 "Strengths and areas appear here once it is submitted."),
    AgendaKind.RESULTS: _l("Walk through the profile: each score with its band of error, and "
                           "how the learner sees themself."),
    AgendaKind.STRENGTHS: _l("How the learner uses their strengths, in a team and when they "
                             "over-use them."),
    AgendaKind.AREAS: _l("What each area looks like in the learner's work, and ways to "
                         "develop it."),
    AgendaKind.GOALS: _l("Agree one or two SMART goals with their first actions, owners and "
                         "dates."),
    AgendaKind.CLOSE: _l("Sum up what was agreed, the next session, and publish the summary."),
    AgendaKind.OTHER: _l("A part of your own."),
}


@dataclass(frozen=True)
class PartDraft:
    """One agenda part as the agenda form gives it."""

    kind: AgendaKind
    title: str
    minutes: int

    def as_json(self) -> dict[str, Any]:
        """The part as a mentor's template stores it."""
        return {"kind": self.kind.value, "title": self.title, "minutes": self.minutes}


def parts_from_form(form: Any) -> list[PartDraft]:
    """The agenda form's rows (title_N, minutes_N, kind_N; remove_N drops one; a row with an
    empty title is skipped); BadInput naming the problem."""
    parts = []
    for index in range(MAX_PARTS + 1):
        title = (form.get(f"title_{index}") or "").strip()
        if not title or form.get(f"remove_{index}") == "1":
            continue
        if len(title) > MAX_PART_TITLE:
            raise BadInput(_l("A part's title is too long (at most %(most)d characters).",
                              most=MAX_PART_TITLE))
        try:
            minutes = int((form.get(f"minutes_{index}") or "").strip())
        except ValueError as exc:
            raise BadInput(_l("Give each part's minutes as a whole number from 1 to %(most)d.",
                              most=MAX_PART_MINUTES)) from exc
        if not 1 <= minutes <= MAX_PART_MINUTES:
            raise BadInput(_l("Give each part's minutes as a whole number from 1 to %(most)d.",
                              most=MAX_PART_MINUTES))
        try:
            kind = AgendaKind(form.get(f"kind_{index}") or AgendaKind.OTHER)
        except ValueError:
            kind = AgendaKind.OTHER
        parts.append(PartDraft(kind, title, minutes))
    if not parts:
        raise BadInput(_l("Keep at least one part on the agenda."))
    if len(parts) > MAX_PARTS:
        raise BadInput(_l("An agenda has at most %(most)d parts.", most=MAX_PARTS))
    return parts


def default_parts(has_result: bool) -> list[PartDraft]:
    """The default agenda in the page's language (titles are stored as typed, like a written
    agenda); the questionnaire replaces the review without a result."""
    return [PartDraft(kind, str(title), minutes) for kind, title, minutes in (
        QUESTIONNAIRE_PART if kind is AgendaKind.RESULTS and not has_result
        else (kind, title, minutes) for kind, title, minutes in DEFAULT_PARTS)]


def mentor_template(launch: LaunchContext) -> AgendaTemplate | None:
    """The launch's mentor's own agenda template in the course, if they saved one."""
    return db.session.scalar(select(AgendaTemplate).where(
        AgendaTemplate.mentor_id == launch.person_id,
        AgendaTemplate.course_id == course_of(launch)))


def agenda_parts(launch: LaunchContext, session: MentoringSession) -> list[AgendaPart]:
    """The session's agenda parts in order, laid out (flushed) the first time they are asked
    for: from the mentor's template, or the default.

    Either way, a learner without a result starts from the questionnaire instead of a review.
    """
    parts = list(db.session.scalars(
        select(AgendaPart).where(AgendaPart.session_id == session.id)
        .order_by(AgendaPart.position, AgendaPart.id)))
    if parts:
        return parts
    has_result = latest_result(session.course_id, session.learner_id) is not None
    template = mentor_template(launch)
    if template is not None and template.parts:
        drafts = [PartDraft(AgendaKind(p["kind"]), p["title"], int(p["minutes"]))
                  for p in template.parts]
        if not has_result:
            title = str(QUESTIONNAIRE_PART[1])
            drafts = [PartDraft(AgendaKind.QUESTIONNAIRE, title, d.minutes)
                      if d.kind is AgendaKind.RESULTS else d for d in drafts]
            if not any(d.kind is AgendaKind.QUESTIONNAIRE for d in drafts):
                drafts.insert(0, PartDraft(AgendaKind.QUESTIONNAIRE, title,
                                           QUESTIONNAIRE_PART[2]))
    else:
        drafts = default_parts(has_result)
    return _replace_parts(session, drafts)


def _replace_parts(session: MentoringSession, drafts: list[PartDraft]) -> list[AgendaPart]:
    parts = [AgendaPart(session_id=session.id, position=position, kind=draft.kind,
                        title=draft.title, minutes=draft.minutes)
             for position, draft in enumerate(drafts)]
    db.session.add_all(parts)
    db.session.flush()
    return parts


def save_agenda(launch: LaunchContext, session_id: int, drafts: list[PartDraft], *,
                as_template: bool = False) -> list[AgendaPart]:
    """Replace the session's agenda parts; with `as_template`, also make them the mentor's
    own agenda for new sessions in the course.

    Notes written in a part that goes away stay on the session, as notes on the whole.
    """
    session = session_for_mentor(launch, session_id)
    old = list(db.session.scalars(select(AgendaPart).where(AgendaPart.session_id == session.id)))
    kept: dict[tuple[AgendaKind, str], AgendaPart] = {(p.kind, p.title): p for p in old}
    parts = []
    for position, draft in enumerate(drafts):
        part = kept.pop((draft.kind, draft.title), None)
        if part is None:
            part = AgendaPart(session_id=session.id, kind=draft.kind, title=draft.title)
            db.session.add(part)
        part.position, part.minutes = position, draft.minutes
        parts.append(part)
    if kept:
        gone = [part.id for part in kept.values()]
        db.session.execute(Note.__table__.update().where(Note.agenda_part_id.in_(gone))
                           .values(agenda_part_id=None))
        for part in kept.values():
            db.session.delete(part)
    if as_template:
        template = mentor_template(launch)
        if template is None:
            template = AgendaTemplate(mentor_id=launch.person_id, course_id=course_of(launch))
            db.session.add(template)
        template.parts = [draft.as_json() for draft in drafts]
    db.session.flush()
    return parts


@dataclass(frozen=True)
class DimensionTalk:
    """One dimension as the guide and the preparation view show it: the result, what it
    means, how to develop it, the questions to ask, and the learner's own rating."""

    id: str
    name: str
    score_text: str
    score: float
    sem: float
    level_label: str
    level_text: str
    standing_label: str
    description: str
    strength: str
    in_a_team: str
    overuse: str
    suggestions: tuple[str, ...]
    debrief: tuple[str, ...]
    #: The learner's self-rating (1..10) and sentence from the pre-session reflection.
    self_rating: int | None
    self_text: str


@dataclass(frozen=True)
class Profile:
    """A learner's latest result for the session's pages."""

    view: ResultsView
    dimensions: tuple[DimensionTalk, ...]
    strengths: tuple[DimensionTalk, ...]
    areas: tuple[DimensionTalk, ...]


def learner_profile(course_id: int, learner_id: int, locale: str | None, name: str,
                    ratings: dict[str, dict] | None = None) -> Profile | None:
    """The learner's latest result with debrief questions and self-ratings; None without."""
    result = latest_result(course_id, learner_id)
    if result is None:
        return None
    view = results_view(result.attempt, locale, chart_name=name)
    instrument = instrument_of(result)
    ratings = ratings or {}

    def talk(entry) -> DimensionTalk:
        rating = ratings.get(entry.id) or {}
        return DimensionTalk(
            id=entry.id, name=entry.name, score_text=entry.score_text, score=entry.score,
            sem=entry.sem, level_label=entry.level_label, level_text=entry.level_text,
            standing_label=entry.standing_label, description=entry.description,
            strength=entry.strength, in_a_team=entry.in_a_team, overuse=entry.overuse,
            suggestions=entry.suggestions,
            debrief=tuple(text.get(locale) for text in instrument.dimension(entry.id).debrief),
            self_rating=rating.get("rating"), self_text=rating.get("text", ""),
        )

    by_id = {entry.id: talk(entry) for entry in view.dimensions}
    return Profile(view, tuple(by_id.values()),
                   tuple(by_id[entry.id] for entry in view.strengths),
                   tuple(by_id[entry.id] for entry in view.areas))


def reflection(session_id: int, kind: ReflectionKind) -> SessionReflection | None:
    """The learner's reflection of one kind on a session, if written."""
    return db.session.scalar(select(SessionReflection).where(
        SessionReflection.session_id == session_id, SessionReflection.kind == kind))


@dataclass(frozen=True)
class Guide:
    """Everything the session guide shows."""

    session: MentoringSession
    parts: tuple[AgendaPart, ...]
    planned_minutes: int
    profile: Profile | None
    instrument: Instrument
    before: SessionReflection | None
    after: SessionReflection | None
    #: Goals agreed in this session, and the learner's other open goals.
    session_goals: tuple[Goal, ...]
    other_goals: tuple[Goal, ...]
    #: Agenda part id (None: the whole session) → the notes the mentor may read.
    notes: dict[int | None, list[Note]]
    purposes: dict[AgendaKind, Any]


def session_guide(launch: LaunchContext, session_id: int) -> Guide:
    """The guide of one session of the course, for one of its mentors."""
    session = session_for_mentor(launch, session_id)
    parts = agenda_parts(launch, session)
    before = reflection(session.id, ReflectionKind.BEFORE)
    profile = learner_profile(session.course_id, session.learner_id, launch.locale,
                              session.learner.display_name,
                              before.ratings if before is not None else None)
    goals = learner_goals(session.course_id, session.learner_id)
    notes: dict[int | None, list[Note]] = {}
    part_ids = {part.id for part in parts}
    for note in mentor_notes(launch, session):
        key = note.agenda_part_id if note.agenda_part_id in part_ids else None
        notes.setdefault(key, []).append(note)
    return Guide(
        session=session, parts=tuple(parts), planned_minutes=sum(p.minutes for p in parts),
        profile=profile, instrument=instrument_of(latest_result(session.course_id,
                                                                session.learner_id)),
        before=before, after=reflection(session.id, ReflectionKind.AFTER),
        session_goals=tuple(goal for goal in goals if goal.session_id == session.id),
        other_goals=tuple(goal for goal in goals if goal.session_id != session.id
                          and goal.status is GoalStatus.ACTIVE),
        notes=notes, purposes=PURPOSES,
    )


def previous_session(session: MentoringSession) -> MentoringSession | None:
    """The learner's latest session in the course before this one that was not cancelled."""
    return db.session.scalar(
        select(MentoringSession)
        .where(MentoringSession.course_id == session.course_id,
               MentoringSession.learner_id == session.learner_id,
               MentoringSession.start_dt < session.start_dt,
               MentoringSession.status != SessionStatus.CANCELLED)
        .order_by(MentoringSession.start_dt.desc(), MentoringSession.id.desc())
        .limit(1)
    )


def overdue(goals: list[Goal] | tuple[Goal, ...], today: date) -> list:
    """The undone, overdue actions of active goals, earliest due first."""
    late = [action for goal in goals if goal.status is GoalStatus.ACTIVE
            for action in goal.actions if action.is_overdue(today)]
    return sorted(late, key=lambda action: (action.due_date, action.id))
