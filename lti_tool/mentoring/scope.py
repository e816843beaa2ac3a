"""What a launch reaches in mentoring, and the errors every mentoring service raises.

A learner is found only through a learner membership in the launch's course, so an id from
another course or platform finds nothing, exactly like an id that does not exist.

Which learners a mentor reaches is decided here, once, by `learner_reach`: every query that
serves a mentor a learner, their attempts, sessions, goals, actions or notes adds its
condition, so a learner outside an assistant's caseload looks like nobody (404) on every page.
"""

from __future__ import annotations

import enum
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import ColumnElement, false, inspect, select, true
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, MentorKind, Person, Role
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.programme.models import CaseloadMode, MentorAssignment, ProgrammeSettings


class MentoringError(Exception):
    """A mentoring request that cannot be carried out; the message says why."""


class NotFound(MentoringError):
    """Nothing with that id in the launch's course, or it is someone else's (views: 404)."""


class NotAllowed(MentoringError):
    """This person may not do this (views: 403)."""


class BadInput(MentoringError):
    """A form value that cannot be used; the message names it (views: 400 with the form)."""


def course_of(launch: LaunchContext) -> int:
    """The launch's course id; NotFound for a launch without a course."""
    if launch.course_id is None:
        raise NotFound("this launch has no course")
    return launch.course_id


def programme_settings(course_id: int) -> ProgrammeSettings:
    """The course's programme settings (unsaved defaults when it has none).

    Read once per request: a page of an assistant mentor asks twice (their reach, then the
    cohort's scope). The row kept is the database session's own object, so a change made in
    the request shows; save_settings keeps the row it creates (remember_programme_settings).
    """
    memo = _programme_memo()
    kept = memo.get(course_id)
    if kept is None or (kept is not _NO_ROW and not inspect(kept).persistent):
        found = db.session.scalar(select(ProgrammeSettings).where(
            ProgrammeSettings.course_id == course_id))
        memo[course_id] = kept = _NO_ROW if found is None else found
    if kept is _NO_ROW:
        return ProgrammeSettings(course_id=course_id, mode=CaseloadMode.EVERYONE,
                                 assistants_see_course=False)
    return kept


def remember_programme_settings(settings: ProgrammeSettings) -> None:
    """Keep a course's settings row, just written, as the one this request reads."""
    _programme_memo()[settings.course_id] = settings


#: The memo's mark for a course without a settings row.
_NO_ROW: Any = object()


def _programme_memo() -> dict[int, Any]:
    """Course id → its settings row (or _NO_ROW) as this request read it. Kept in the
    request's environ, not in `g`: an application context can outlive a request (a test's,
    a CLI command's), and the settings may change between requests."""
    if not has_request_context():
        return {}
    return request.environ.setdefault("lti_tool.programme_settings", {})


def reaches_whole_course(launch: LaunchContext) -> bool:
    """Whether the launch's mentor may see every learner of the course.

    Yes for the lead mentor and a site administrator (who still gets no answers or mentors'
    notes), and for everyone while the course runs "every mentor sees everyone"; in
    "assigned" mode an assistant only where the course lets assistants switch to the whole
    course.
    """
    if launch.role is not Role.MENTOR or launch.course_id is None:
        return False
    # Anything but a known lead or site administrator counts as an assistant (the narrowest).
    if launch.mentor_kind in (MentorKind.LEAD, MentorKind.SITE_ADMIN):
        return True
    settings = programme_settings(launch.course_id)
    return settings.mode is CaseloadMode.EVERYONE or settings.assistants_see_course


def caseload_ids(course_id: Any, mentor_id: Any):
    """A subquery: the ids of the learners assigned to a mentor in a course (ids, or bound
    parameters that will hold them)."""
    return select(MentorAssignment.learner_id).where(MentorAssignment.course_id == course_id,
                                                     MentorAssignment.mentor_id == mentor_id)


class Reach(enum.Enum):
    """How far a launch reaches among its course's learners."""

    NOBODY = "nobody"
    COURSE = "course"
    CASELOAD = "caseload"


def reach_of(launch: LaunchContext) -> Reach:
    """The launch's reach: the whole course, its mentor's caseload, or nobody (not a mentor)."""
    if launch.role is not Role.MENTOR or launch.course_id is None:
        return Reach.NOBODY
    return Reach.COURSE if reaches_whole_course(launch) else Reach.CASELOAD


def reach_condition(reach: Reach, learner_column, course_id: Any,
                    mentor_id: Any) -> ColumnElement[bool]:
    """`reach` as a condition on a learner id column; `course_id` and `mentor_id` (values or
    bound parameters) name the caseload."""
    if reach is Reach.NOBODY:
        return false()
    if reach is Reach.COURSE:
        return true()
    return learner_column.in_(caseload_ids(course_id, mentor_id))


def learner_reach(launch: LaunchContext, learner_column) -> ColumnElement[bool]:
    """THE rule of who sees whom: a condition on a learner id column that holds for the learners
    the launch's mentor may see (everyone, or their caseload); false for anyone not a mentor.

    Every query serving a mentor a learner's data adds it (or, built once for many launches,
    reach_condition with the launch's reach_of), so this is the one place to change.
    """
    return reach_condition(reach_of(launch), learner_column, launch.course_id, launch.person_id)


def bookable_mentors(launch: LaunchContext, mentor_column) -> ColumnElement[bool]:
    """A condition on a mentor id column: whose free slots the launch's learner may book.

    Where mentors are assigned, only their own mentors': a session with anyone else would be
    one that mentor could not open.
    """
    if programme_settings(course_of(launch)).mode is not CaseloadMode.ASSIGNED:
        return true()
    return mentor_column.in_(select(MentorAssignment.mentor_id).where(
        MentorAssignment.course_id == launch.course_id,
        MentorAssignment.learner_id == launch.person_id))


def register_reach(app: Flask) -> None:
    """Offer `learner_reach` to the floors below mentoring (the questionnaire's retake, the
    gradebook's score pages), which may not import it."""
    app.extensions["learner_reach"] = learner_reach


def learner_in_course(launch: LaunchContext, person_id: int | None) -> Person:
    """A learner of the launch's course (for a mentor: one they reach); NotFound otherwise."""
    person = None
    if person_id is not None:
        query = (
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.course_id == course_of(launch), Membership.person_id == person_id,
                   Membership.role == Role.LEARNER)
        )
        if launch.role is Role.MENTOR:
            query = query.where(learner_reach(launch, Person.id))
        person = db.session.scalar(query)
    if person is None:
        raise NotFound(f"person {person_id} is not a learner in course {launch.course_id}")
    return person


def course_learners(course_id: int) -> list[Person]:
    """The course's learners still on its roster, by name."""
    return _learners(course_id, true())


def mentor_learners(launch: LaunchContext) -> list[Person]:
    """The learners on the course's roster whom the launch's mentor reaches, by name."""
    return _learners(course_of(launch), learner_reach(launch, Membership.person_id))


def _learners(course_id: int, reach: ColumnElement[bool]) -> list[Person]:
    memberships = db.session.scalars(
        select(Membership)
        .options(joinedload(Membership.person))
        .where(Membership.course_id == course_id, Membership.role == Role.LEARNER,
               Membership.active.is_(True), reach)
    ).all()
    people = [membership.person for membership in memberships]
    return sorted(people, key=lambda person: (person.display_name.casefold(), person.id))


def observed_learners(launch: LaunchContext) -> list[Person]:
    """For an observer: the learners of the launch's course whom their launch names, by name.

    Only users named in this launch's role_scope_mentor claim and enrolled as learners in
    this course: an observer of a learner in another course, or of a teacher, sees nothing.
    """
    require_observer(launch)
    subs = launch.observed_subs
    if not subs:
        return []
    people = db.session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.course_id == course_of(launch), Membership.role == Role.LEARNER,
               Person.platform_id == launch.platform_id, Person.sub.in_(subs))
    ).all()
    return sorted(people, key=lambda person: (person.display_name.casefold(), person.id))


def observed_learner(launch: LaunchContext, person_id: int) -> Person:
    """One of the observer's learners; NotFound for anyone else."""
    for person in observed_learners(launch):
        if person.id == person_id:
            return person
    raise NotFound(f"person {person_id} is not observed by this launch in course "
                   f"{launch.course_id}")


def require_observer(launch: LaunchContext) -> None:
    """NotAllowed unless the launch came from an LIS Mentor observing someone."""
    if launch.role is not Role.OBSERVER:
        raise NotAllowed("only an observer may do this")


def require_mentor(launch: LaunchContext) -> None:
    """NotAllowed unless the launch gave a mentor role in its course."""
    if launch.role is not Role.MENTOR:
        raise NotAllowed("only a mentor of the course may do this")


def require_lead(launch: LaunchContext) -> None:
    """NotAllowed unless the launch made its person a lead mentor (Instructor) of the course."""
    if launch.role is not Role.MENTOR or launch.mentor_kind is not MentorKind.LEAD:
        raise NotAllowed("only the course's lead mentor (an Instructor) may do this")


def require_learner(launch: LaunchContext) -> None:
    """NotAllowed unless the launch gave a learner role in its course."""
    if launch.role is not Role.LEARNER:
        raise NotAllowed("only a learner of the course may do this")


def sees_mentor_notes(launch: LaunchContext) -> bool:
    """Whether the launch reads notes meant for the course's mentors.

    A site administrator who opens the course without a mentor role in it is not one of its
    mentors: they read learner-level notes (and their own) only.
    """
    return launch.role is Role.MENTOR and launch.mentor_kind is not MentorKind.SITE_ADMIN


def sees_answers(launch: LaunchContext, shown_to_mentors: bool) -> bool:
    """Whether the launch's mentor reads a learner's item-level answers.

    Only where the activity shows answers to mentors, and never to a site administrator
    without a mentor role in the course.
    """
    return (launch.role is Role.MENTOR and shown_to_mentors
            and launch.mentor_kind is not MentorKind.SITE_ADMIN)
