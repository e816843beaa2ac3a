"""Per-activity privacy: whether the course's mentors read a learner's answers item by item.

Some mentoring programmes show mentors the profile (scores, strengths, areas to develop) but
not the answers it was computed from. The setting belongs to one activity (resource link),
like its grade mode, and covers the attempts taken in it; an activity without a row shows
answers, as the tool always did. The learner's start page says which way it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow


class ActivityPrivacy(db.Model):
    """What one activity shows mentors of its learners' attempts."""

    __tablename__ = "activity_privacy"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("resource_link.id"), unique=True)
    #: False: mentors see results but not the answers, item by item.
    answers_to_mentors: Mapped[bool] = mapped_column(default=True)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def answers_shown_to_mentors(resource_link_id: int | None) -> bool:
    """Whether mentors read item-level answers of attempts in this activity (default: yes)."""
    if resource_link_id is None:
        return True
    shown = db.session.scalar(select(ActivityPrivacy.answers_to_mentors).where(
        ActivityPrivacy.resource_link_id == resource_link_id))
    return True if shown is None else shown


def set_answers_shown(resource_link_id: int, shown: bool) -> None:
    """Show or hide item-level answers to mentors in this activity (flushed, not committed).

    Who changed it is in the audit log, like every change a mentor makes."""
    row = db.session.scalar(select(ActivityPrivacy).where(
        ActivityPrivacy.resource_link_id == resource_link_id))
    if row is None:
        row = ActivityPrivacy(resource_link_id=resource_link_id)
        db.session.add(row)
    row.answers_to_mentors = shown
    db.session.flush()
