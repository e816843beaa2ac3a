"""Per-activity settings: privacy (whether the course's mentors read a learner's answers item
by item) and the retake round (from which date everyone may take the questionnaire again).

Some mentoring programmes show mentors the profile (scores, strengths, areas to develop) but
not the answers it was computed from. The setting belongs to one activity (resource link),
like its grade mode, and covers the attempts taken in it; an activity without a row shows
answers, as the tool always did. The learner's start page says which way it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, bindparam, select
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


#: Read on every learner's landing page: built once.
_SHOWN = select(ActivityPrivacy.answers_to_mentors).where(
    ActivityPrivacy.resource_link_id == bindparam("link"))


def answers_shown_to_mentors(resource_link_id: int | None) -> bool:
    """Whether mentors read item-level answers of attempts in this activity (default: yes)."""
    if resource_link_id is None:
        return True
    shown = db.session.scalar(_SHOWN, {"link": resource_link_id})
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


class RetakeRound(db.Model):
    """An activity's retake round: from `opens_dt` on, everyone whose latest attempt was
    submitted before it may take the questionnaire once more (e.g. at the programme's end)."""

    __tablename__ = "retake_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("resource_link.id"), unique=True)
    opens_dt: Mapped[datetime]
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def retake_round_dt(resource_link_id: int | None) -> datetime | None:
    """When the activity's retake round opens; None when it has none."""
    if resource_link_id is None:
        return None
    return db.session.scalar(select(RetakeRound.opens_dt).where(
        RetakeRound.resource_link_id == resource_link_id))


def set_retake_round(resource_link_id: int, opens_dt: datetime | None,
                     set_by_id: int | None) -> None:
    """Open a retake round from `opens_dt` in this activity, or remove it with None (flushed)."""
    row = db.session.scalar(select(RetakeRound).where(
        RetakeRound.resource_link_id == resource_link_id))
    if opens_dt is None:
        if row is not None:
            db.session.delete(row)
        db.session.flush()
        return
    if row is None:
        row = RetakeRound(resource_link_id=resource_link_id, opens_dt=opens_dt)
        db.session.add(row)
    row.opens_dt, row.set_by_id = opens_dt, set_by_id
    db.session.flush()
