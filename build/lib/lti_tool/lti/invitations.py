"""Single-use invitations to register the tool by LTI Dynamic Registration.

The registration URL is public by nature (an LMS administrator pastes it), so by default it
works only with a code from `flask platforms invite`. Only a hash of the code is stored:
someone who reads the database cannot register a platform with it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow

INVITE_PARAM = "invite"


class RegistrationInvitation(db.Model):
    """An invitation code (hashed) that lets one platform register the tool once."""

    __tablename__ = "registration_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the code; the code itself is shown once, when it is made.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(255), default="")
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    expires_dt: Mapped[datetime]
    used_dt: Mapped[datetime | None]
    #: The issuer that registered with this invitation.
    used_by: Mapped[str | None] = mapped_column(String(255))


class InvitationRefused(Exception):
    """The invitation code is missing, unknown, used or expired; the message says which."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_invitation(hours: int, note: str = "") -> tuple[str, RegistrationInvitation]:
    """A new invitation valid for `hours`; returns the code (shown once) and the row."""
    code = secrets.token_urlsafe(24)
    row = RegistrationInvitation(
        code_hash=_hash(code), note=note[:255], expires_dt=utcnow() + timedelta(hours=hours)
    )
    db.session.add(row)
    db.session.flush()
    return code, row


def invitation_url(code: str) -> str:
    """The registration URL with the invitation code, for the LMS administrator."""
    return f"{current_app.config['TOOL_URL']}/lti/register?{INVITE_PARAM}={code}"


def check_invitation(code: str | None) -> RegistrationInvitation:
    """The open invitation behind a code, or InvitationRefused saying what is wrong."""
    if not code:
        raise InvitationRefused(_l(
            "This registration address has no invitation code. Registering this tool needs "
            "an invitation: ask the tool's administrator to run `flask platforms invite` and "
            "paste the address it prints into your LMS."
        ))
    row = db.session.scalar(
        select(RegistrationInvitation).where(RegistrationInvitation.code_hash == _hash(code))
    )
    if row is None:
        raise InvitationRefused(_l(
            "This invitation code is not known to the tool. Check that the whole address was "
            "pasted, or ask the tool's administrator for a new one (`flask platforms invite`)."
        ))
    if row.used_dt is not None:
        raise InvitationRefused(_l(
            "This invitation was already used to register a platform; each one works once. "
            "Ask the tool's administrator for a new one (`flask platforms invite`)."
        ))
    if row.expires_dt <= utcnow():
        raise InvitationRefused(_l(
            "This invitation expired on %(when)s UTC. Ask the tool's administrator for a new "
            "one (`flask platforms invite`).", when=f"{row.expires_dt:%Y-%m-%d %H:%M}",
        ))
    return row


def claim_invitation(code: str | None, issuer: str) -> None:
    """Mark an open invitation used by `issuer`; InvitationRefused when it is not open.

    One UPDATE with the conditions in its WHERE clause: of two registrations racing with
    the same code, exactly one changes the row.
    """
    check_invitation(code)
    now = utcnow()
    claimed = db.session.execute(
        update(RegistrationInvitation)
        .where(
            RegistrationInvitation.code_hash == _hash(code or ""),
            RegistrationInvitation.used_dt.is_(None),
            RegistrationInvitation.expires_dt > now,
        )
        .values(used_dt=now, used_by=issuer[:255])
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvitationRefused(
            _l("This invitation was used a moment ago by another registration."))


def release_invitation(code: str) -> None:
    """Make a claimed invitation usable again (the registration it was claimed for failed)."""
    db.session.execute(
        update(RegistrationInvitation)
        .where(RegistrationInvitation.code_hash == _hash(code))
        .values(used_dt=None, used_by=None)
        .execution_options(synchronize_session=False)
    )
