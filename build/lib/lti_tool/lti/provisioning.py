"""Create or update Person, Course, Membership and ResourceLink from a valid launch."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lti_tool.extensions import db
from lti_tool.identity.models import (
    Course,
    Deployment,
    Membership,
    Person,
    Platform,
    ResourceLink,
    Role,
    utcnow,
)
from lti_tool.lti.roles import observed_users, role_for

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

M = TypeVar("M")


def get_or_create(
    model: type[M], keys: dict[str, Any], defaults: dict[str, Any] | None = None
) -> M:
    """The row with these natural-key values, created (with `defaults`) when absent.

    Two first launches of the same person can race; the loser of the unique constraint
    rolls back its savepoint and reads the winner's row.
    """
    query = select(model).filter_by(**keys)
    row = db.session.scalar(query)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = model(**keys, **(defaults or {}))
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(query)
        if row is None:  # not a lost race but a real constraint violation
            raise
    return row


def _text(value: Any, limit: int = 255) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def provision(
    platform: Platform, deployment: Deployment, claims: dict[str, Any]
) -> tuple[Person, Course | None, ResourceLink | None, Role]:
    """Record who launched, from where, with which role; return them."""
    person = get_or_create(Person, {"platform_id": platform.id, "sub": claims["sub"]})
    # Keep exactly what the platform shares now: when an admin stops sharing names or
    # e-mail, the copies here go too, and pages fall back to the pseudonym.
    for field in ("name", "given_name", "family_name", "email"):
        setattr(person, field, _text(claims.get(field)))
    presentation = claims.get(CLAIM + "launch_presentation") or {}
    person.locale = _text(presentation.get("locale"), 35) or person.locale

    roles = [r for r in claims.get(CLAIM + "roles") or [] if isinstance(r, str)]
    role = role_for(roles, observed_users(claims))
    context = claims.get(CLAIM + "context")
    course = None
    if isinstance(context, dict) and context.get("id"):
        course = get_or_create(
            Course, {"platform_id": platform.id, "context_id": str(context["id"])[:255]}
        )
        course.label = _text(context.get("label")) or course.label or ""
        course.title = _text(context.get("title"), 1024) or course.title or ""
        nrps = claims.get(NRPS_CLAIM) or {}
        if isinstance(nrps, dict) and nrps.get("context_memberships_url"):
            course.memberships_url = nrps["context_memberships_url"][:1024]
        membership = get_or_create(
            Membership, {"course_id": course.id, "person_id": person.id},
            {"role": role, "roles": roles},
        )
        membership.roles = roles
        membership.role = role
        membership.active = True
        membership.last_launch_dt = utcnow()

    link = None
    link_claim = claims.get(CLAIM + "resource_link")
    if isinstance(link_claim, dict) and link_claim.get("id"):
        link = get_or_create(
            ResourceLink,
            {"platform_id": platform.id, "resource_link_id": str(link_claim["id"])[:255]},
        )
        link.course_id = course.id if course else link.course_id
        link.title = _text(link_claim.get("title"), 1024) or link.title or ""
        link.description = link_claim.get("description") or link.description or ""
        ags = claims.get(AGS_CLAIM)
        if isinstance(ags, dict):
            link.ags_lineitem = _text(ags.get("lineitem"), 1024)
            link.ags_lineitems = _text(ags.get("lineitems"), 1024)
            link.ags_scopes = [s for s in ags.get("scope") or [] if isinstance(s, str)]
    db.session.flush()
    return person, course, link, role


#: How many framing origins one platform may accumulate (a school has one or two).
MAX_FRAME_ORIGINS = 20


def remember_frame_origin(platform: Platform, origin: str | None) -> bool:
    """Note the origin of a valid launch's form POST: the LMS page that frames the tool.
    True when it is new (the caller drops its cached frame-ancestors)."""
    if not origin or origin == "null" or not origin.startswith(("https://", "http://")):
        return False
    origins = list(platform.frame_origins or [])
    if origin not in origins and len(origins) < MAX_FRAME_ORIGINS:
        platform.frame_origins = [*origins, origin[:255]]
        return True
    return False
