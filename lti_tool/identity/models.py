"""Identity as plain models: no protocol here, only the keys the LMS gave us.

A Person is (platform, sub): the same ``sub`` on two platforms is two people. A Course is
(platform, context id). Every page is scoped through these, never by a bare id.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.extensions import db
from lti_tool.identity.names import display_name_of, name_key_of, pseudonym


def utcnow() -> datetime:
    """The current time in UTC, as stored in every *_dt column."""
    return datetime.now(UTC).replace(tzinfo=None)


class Role(enum.StrEnum):
    """What a person may do in one course, derived from the LTI roles of a launch."""

    LEARNER = "learner"
    MENTOR = "mentor"
    #: An LIS Mentor (Canvas's observer): reads what the users they observe see, nothing else.
    OBSERVER = "observer"
    NONE = "none"


class MentorKind(enum.StrEnum):
    """Which kind of mentor a launch made someone: it decides what they may see and change."""

    #: The course's lead mentor (Instructor): settings, assignments, the whole course.
    LEAD = "lead"
    #: A teaching assistant or content developer: their caseload when mentors are assigned.
    ASSISTANT = "assistant"
    #: A site (institution or system) administrator with no mentor role in the course: no
    #: learner answers and no notes meant for the course's mentors.
    SITE_ADMIN = "site_admin"


class Platform(db.Model):
    """One LMS registration: an issuer and the client id it gave the tool."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    key_set_url: Mapped[str] = mapped_column(String(1024))
    #: The `aud` of our client assertions when the platform wants one other than the token URL.
    auth_audience: Mapped[str | None] = mapped_column(String(1024))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan"
    )
    frame_origins: Mapped[list[FrameOrigin]] = relationship(
        back_populates="platform", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        """A name for people: the platform's name or its issuer."""
        return self.name or self.issuer


class FrameOrigin(db.Model):
    """An origin whose pages may frame the tool, named by the platform in a signed launch
    (a Canvas school's own host, beside the issuer and endpoints it registered)."""

    __tablename__ = "platform_frame_origin"
    __table_args__ = (UniqueConstraint("platform_id", "origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(
        ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    #: scheme://host[:port], from launch_presentation.return_url or tool_platform.url.
    origin: Mapped[str] = mapped_column(String(255))
    first_seen_dt: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="frame_origins")


class Deployment(db.Model):
    """A deployment of the tool on a platform (Moodle: the tool type id)."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class Course(db.Model):
    """An LTI context on one platform."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    context_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(1024), default="")
    #: NRPS context_memberships_url from the latest launch that carried one.
    memberships_url: Mapped[str | None] = mapped_column(String(1024))
    roster_synced_dt: Mapped[datetime | None]
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship()

    @property
    def display_title(self) -> str:
        """The course title, or its label, or its id."""
        return self.title or self.label or f"Course {self.context_id}"


class Person(db.Model):
    """A user of one platform; names and e-mail only when the platform shares them."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(35))
    #: The display name casefolded (names.name_key_of), what lists sort and search by in
    #: SQL. Kept by the ORM on every write (_keep_name_key) and computed from an INSERT's
    #: values when a bulk insert leaves it out; a bulk UPDATE of names must pass it.
    name_key: Mapped[str] = mapped_column(Text, default=lambda context: _inserted_name_key(
        context.get_current_parameters()))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship()

    @property
    def pseudonym(self) -> str:
        """A stable stand-in name for when the platform withholds names: 'Learner 7F3A'."""
        return pseudonym(self.platform_id, self.sub)

    @property
    def display_name(self) -> str:
        """The person's name as the platform shared it, else the pseudonym."""
        return display_name_of(self.platform_id, self.sub, self.name, self.given_name,
                               self.family_name)


#: What a person's display name is made of.
NAME_PARTS = ("platform_id", "sub", "name", "given_name", "family_name")


def _inserted_name_key(values: dict) -> str:
    return name_key_of(*(values.get(part) for part in NAME_PARTS))


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _keep_name_key(_mapper, _connection, person: Person) -> None:
    """Person.name_key follows the name on every ORM write."""
    state = inspect(person)
    if state.persistent and not any(state.attrs[part].history.has_changes()
                                    for part in NAME_PARTS):
        return
    person.name_key = name_key_of(*(getattr(person, part) for part in NAME_PARTS))


class Membership(db.Model):
    """A person's roles in a course, from launches and (later) the NRPS roster."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("course_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    #: The LTI role URIs (or short names) exactly as the platform sent them.
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    #: False once the person has left the course roster; their data stays.
    active: Mapped[bool] = mapped_column(default=True)
    last_launch_dt: Mapped[datetime | None]
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()
    person: Mapped[Person] = relationship()


class ResourceLink(db.Model):
    """A placement of the tool in a course (Moodle: the activity), with its AGS claim."""

    __tablename__ = "resource_link"
    __table_args__ = (UniqueConstraint("platform_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(1024), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: AGS endpoint claim: the single `lineitem` when the platform sent one.
    ags_lineitem: Mapped[str | None] = mapped_column(String(1024))
    ags_lineitems: Mapped[str | None] = mapped_column(String(1024))
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course | None] = relationship()
