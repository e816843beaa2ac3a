"""The audit log: who looked at or changed a learner's data, and every erasure.

Ids here are plain numbers, not foreign keys: an entry must outlive the people it names,
and erasing a person clears their ids from older entries (see dataprotection).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, insert
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow


class AuditEntry(db.Model):
    """One audited action."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: The person who acted (a mentor, or None for an operator's command).
    actor_person_id: Mapped[int | None] = mapped_column(index=True)
    #: The learner whose data was seen or changed, when there is one.
    subject_person_id: Mapped[int | None] = mapped_column(index=True)
    course_id: Mapped[int | None] = mapped_column(index=True)
    #: e.g. "GET mentoring.learner_page", "data.erase".
    action: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(action: str, *, actor_person_id: int | None = None,
           subject_person_id: int | None = None, course_id: int | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """Write an audit entry in the current transaction (it stands or falls with it)."""
    # An INSERT of the table, not an object for the session to flush: every mentor page
    # writes one, and nothing reads the entry back in the same request. On the session's
    # connection (its transaction), not through the session: a statement run through the
    # session counts as a write that the cached reference groups must look at again.
    db.session.connection().execute(insert(AuditEntry.__table__).values(
        action=action[:128], actor_person_id=actor_person_id,
        subject_person_id=subject_person_id, course_id=course_id, detail=detail or {},
    ))
