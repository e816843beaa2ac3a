"""Cohort queries, always scoped to the course of the current launch."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Membership, Person, Role
from lti_tool.lti.session import LaunchContext


def learners(launch: LaunchContext) -> list[Person]:
    """The course's learners known to the tool, ordered by name."""
    if launch.course_id is None:
        return []
    rows = db.session.scalars(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.course_id == launch.course_id, Membership.role == Role.LEARNER)
    ).all()
    return sorted(rows, key=lambda p: p.display_name.casefold())
