"""What a launch reaches in mentoring, and the errors every mentoring service raises.

A learner is found only through a learner membership in the launch's course, so an id from
another course or platform finds nothing, exactly like an id that does not exist.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, MentorKind, Person, Role
from lti_tool.lti.session import LaunchContext


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


def learner_in_course(launch: LaunchContext, person_id: int | None) -> Person:
    """A learner of the launch's course; NotFound for anyone else."""
    person = None
    if person_id is not None:
        person = db.session.scalar(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.course_id == course_of(launch), Membership.person_id == person_id,
                   Membership.role == Role.LEARNER)
        )
    if person is None:
        raise NotFound(f"person {person_id} is not a learner in course {launch.course_id}")
    return person


def course_learners(course_id: int) -> list[Person]:
    """The course's learners still on its roster, by name."""
    memberships = db.session.scalars(
        select(Membership)
        .options(joinedload(Membership.person))
        .where(Membership.course_id == course_id, Membership.role == Role.LEARNER,
               Membership.active.is_(True))
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
