"""Protocol records: the tool's key pairs, launch sessions and the shared cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.extensions import db
from lti_tool.identity.models import (
    Course,
    Deployment,
    MentorKind,
    Person,
    ResourceLink,
    Role,
    utcnow,
)


class KeyPair(db.Model):
    """A tool signing key: the public half here, the private half in KEYS_DIR/<kid>.pem."""

    __tablename__ = "key_pair"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: RFC 7638 thumbprint of the public key: stable, and the same on every server.
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set by rotation: the key stays in the JWKS until then, but signs nothing new.
    retire_after_dt: Mapped[datetime | None]
    retired_dt: Mapped[datetime | None]


class LaunchSession(db.Model):
    """What one valid launch allows, found again from the signed token in links and forms."""

    __tablename__ = "launch_session"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_link.id"), index=True
    )
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    #: For a mentor: lead, assistant or site administrator, from the launch's roles.
    mentor_kind: Mapped[MentorKind | None] = mapped_column(
        db.Enum(MentorKind, native_enum=False, length=16,
                values_callable=lambda e: [m.value for m in e])
    )
    message_type: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(35))
    #: Claims that later pages need (launch_presentation, deep linking settings, custom).
    claims: Mapped[dict] = mapped_column(JSON, default=dict)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    expires_dt: Mapped[datetime] = mapped_column(index=True)

    person: Mapped[Person] = relationship()
    deployment: Mapped[Deployment] = relationship()
    course: Mapped[Course | None] = relationship()
    resource_link: Mapped[ResourceLink | None] = relationship()


class CacheEntry(db.Model):
    """The database flavour of the shared store (OIDC state, nonces, tokens, platform keys)."""

    __tablename__ = "cache_entry"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_dt: Mapped[datetime] = mapped_column(index=True)
