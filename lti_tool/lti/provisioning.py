"""Create or update Person, Course, Membership and ResourceLink from a valid launch."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import and_, bindparam, false, select
from sqlalchemy.exc import IntegrityError

from lti_tool.extensions import db
from lti_tool.headers import origin_of, registration_origins
from lti_tool.identity.models import (
    Course,
    FrameOrigin,
    Membership,
    Person,
    Platform,
    ResourceLink,
    Role,
    utcnow,
)
from lti_tool.lti.roles import observed_users, role_for

if TYPE_CHECKING:
    from lti_tool.lti.registry import PlatformRecord

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


#: A membership's last launch is kept to this precision: a learner who opens the activity
#: again within it costs no write.
LAST_LAUNCH_PRECISION = timedelta(hours=1)


def _assign(row: Any, **values: Any) -> None:
    """Set only the attributes whose value differs: an unchanged row writes nothing."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


@cache
def _known_rows_query(with_context: bool, with_link: bool):
    """The statement of _known_rows, built once per shape (every launch runs it; building
    it costs more than running it)."""
    platform_id = bindparam("platform_id")
    course_on = (and_(Course.platform_id == platform_id,
                      Course.context_id == bindparam("context_id"))
                 if with_context else false())
    link_on = (and_(ResourceLink.platform_id == platform_id,
                    ResourceLink.resource_link_id == bindparam("link_id"))
               if with_link else false())
    return (
        select(Person, Course, Membership, ResourceLink)
        .select_from(Person)
        .outerjoin(Course, course_on)
        .outerjoin(Membership, and_(Membership.course_id == Course.id,
                                    Membership.person_id == Person.id))
        .outerjoin(ResourceLink, link_on)
        .where(Person.platform_id == platform_id, Person.sub == bindparam("sub"))
    )


def _known_rows(
    platform_id: int, sub: str, context_id: str | None, link_id: str | None
) -> tuple[Person | None, Course | None, Membership | None, ResourceLink | None]:
    """A returning launch's person, course, membership and link in one statement."""
    values: dict[str, Any] = {"platform_id": platform_id, "sub": sub}
    if context_id:
        values["context_id"] = context_id
    if link_id:
        values["link_id"] = link_id
    row = db.session.execute(
        _known_rows_query(bool(context_id), bool(link_id)), values).first()
    return tuple(row) if row is not None else (None, None, None, None)  # type: ignore[return-value]


def provision(
    platform: PlatformRecord | Platform, deployment: Any, claims: dict[str, Any]
) -> tuple[Person, Course | None, ResourceLink | None, Role]:
    """Record who launched, from where, with which role; return them.

    A returning person whose claims did not change costs one SELECT and no write; what is
    missing is created, what changed is updated."""
    context = claims.get(CLAIM + "context")
    context_id = (str(context["id"])[:255]
                  if isinstance(context, dict) and context.get("id") else None)
    link_claim = claims.get(CLAIM + "resource_link")
    link_id = (str(link_claim["id"])[:255]
               if isinstance(link_claim, dict) and link_claim.get("id") else None)
    person, course, membership, link = _known_rows(
        platform.id, claims["sub"], context_id, link_id)

    if person is None:
        person = get_or_create(Person, {"platform_id": platform.id, "sub": claims["sub"]})
    # Keep exactly what the platform shares now: when an admin stops sharing names or
    # e-mail, the copies here go too, and pages fall back to the pseudonym.
    presentation = claims.get(CLAIM + "launch_presentation") or {}
    _assign(person, **{field: _text(claims.get(field))
                       for field in ("name", "given_name", "family_name", "email")},
            locale=_text(presentation.get("locale"), 35) or person.locale)

    roles = [r for r in claims.get(CLAIM + "roles") or [] if isinstance(r, str)]
    role = role_for(roles, observed_users(claims))
    if context_id is not None:
        if course is None:
            course = get_or_create(Course, {"platform_id": platform.id, "context_id": context_id})
        nrps = claims.get(NRPS_CLAIM) or {}
        memberships_url = (nrps["context_memberships_url"][:1024]
                           if isinstance(nrps, dict) and nrps.get("context_memberships_url")
                           else course.memberships_url)
        _assign(course, label=_text(context.get("label")) or course.label or "",
                title=_text(context.get("title"), 1024) or course.title or "",
                memberships_url=memberships_url)
        if membership is None:
            membership = get_or_create(
                Membership, {"course_id": course.id, "person_id": person.id},
                {"role": role, "roles": roles},
            )
        _assign(membership, roles=roles, role=role, active=True)
        now = utcnow()
        last = membership.last_launch_dt
        if last is None or now - _naive(last) >= LAST_LAUNCH_PRECISION:
            membership.last_launch_dt = now

    if link_id is not None:
        if link is None:
            link = get_or_create(
                ResourceLink, {"platform_id": platform.id, "resource_link_id": link_id})
        _assign(link, course_id=course.id if course else link.course_id,
                title=_text(link_claim.get("title"), 1024) or link.title or "",
                description=link_claim.get("description") or link.description or "")
        ags = claims.get(AGS_CLAIM)
        if isinstance(ags, dict):
            _assign(link, ags_lineitem=_text(ags.get("lineitem"), 1024),
                    ags_lineitems=_text(ags.get("lineitems"), 1024),
                    ags_scopes=[s for s in ags.get("scope") or [] if isinstance(s, str)])
    db.session.flush()
    return person, course, link, role


def _naive(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: compare them alike."""
    now = utcnow()
    if (moment.tzinfo is None) != (now.tzinfo is None):
        return moment.replace(tzinfo=now.tzinfo)
    return moment


def framing_origins(claims: dict[str, Any]) -> set[str]:
    """The LMS origins a signed launch names as its own pages: where launch_presentation's
    return_url sends the person back, and tool_platform's url. Canvas serves course pages
    (and so the frame around the tool) from the school's host, which these name; the
    issuer and endpoints do not."""
    presentation = claims.get(CLAIM + "launch_presentation")
    tool_platform = claims.get(CLAIM + "tool_platform")
    urls = [
        presentation.get("return_url") if isinstance(presentation, dict) else None,
        tool_platform.get("url") if isinstance(tool_platform, dict) else None,
    ]
    origins = {origin_of(url) for url in urls if isinstance(url, str)}
    return {origin for origin in origins if origin and len(origin) <= 255}


def remember_frame_origins(platform: PlatformRecord | Platform, claims: dict[str, Any]) -> bool:
    """Record the framing origins a validated launch's claims name; True when one is new
    (the caller drops its cached frame-ancestors).

    Only what the platform signed counts, never the request's Origin header or a form
    field: a learner replaying their own launch could set those to any site. So there is
    no cap for junk to fill: a platform names only its own hosts.
    """
    # A Platform row holds FrameOrigin rows; the registry's PlatformRecord their origins.
    known = {getattr(row, "origin", row) for row in platform.frame_origins}
    new = framing_origins(claims) - known - registration_origins(platform)
    for origin in sorted(new):
        # Two first launches from a new school host can race; the loser reads the winner's.
        get_or_create(FrameOrigin, {"platform_id": platform.id, "origin": origin})
    return bool(new)
