"""Availability slots: a mentor publishes times (say, 90-minute slots over a week); a learner
books one, and the slot then holds that one session.

A learner books through booking.place_session, so every rule of a mentor's booking holds
(no overlap, times in the future) plus the learners' own: not within the guard time before
the start, and at most LEARNER_MAX_UPCOMING_SESSIONS upcoming sessions in the course,
counted while the calendars are locked so that two tabs cannot both book.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date, ngettext
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.areas import default_agenda
from lti_tool.mentoring.booking import (
    BookingRefused,
    BookingRules,
    guard_text,
    hold_calendars,
    place_session,
    upcoming_count,
)
from lti_tool.mentoring.drafts import read_minutes, read_place
from lti_tool.mentoring.models import (
    AvailabilitySlot,
    MeetingMode,
    MentoringSession,
    SessionStatus,
)
from lti_tool.mentoring.scope import (
    BadInput,
    NotFound,
    bookable_mentors,
    course_of,
    require_learner,
    require_mentor,
)
from lti_tool.mentoring.timezones import BadTime, parse_day, to_utc

MAX_DAYS = 28
MAX_TIMES = 12
#: More slots than this from one form is surely a typing mistake.
MAX_SLOTS = 100


@dataclass(frozen=True)
class SlotSeries:
    """Slots at the same times on consecutive days, as the mentor's form gives them."""

    first_day: date
    days: int
    times: tuple[time, ...]
    minutes: int
    weekdays_only: bool
    mode: MeetingMode
    location: str
    meeting_url: str

    @classmethod
    def from_form(cls, form: Mapping[str, str], default_minutes: int) -> SlotSeries:
        """Read the publishing form; BadInput naming the problem."""
        try:
            first_day = parse_day(form.get("first_day"), _l("the first day"))
        except BadTime as exc:
            raise BadInput(str(exc)) from exc
        try:
            days = int(form.get("days") or 1)
        except ValueError as exc:
            raise BadInput(_l("Give the number of days as a whole number.")) from exc
        if not 1 <= days <= MAX_DAYS:
            raise BadInput(_l("Publish slots over 1 to %(most)d days.", most=MAX_DAYS))
        times = []
        for text in (form.get("times") or "").replace(";", ",").split(","):
            if text.strip():
                try:
                    times.append(time.fromisoformat(text.strip()).replace(second=0))
                except ValueError as exc:
                    raise BadInput(_l("“%(text)s” is not a time; write times as 09:00, "
                                      "11:00, 14:00.", text=text.strip())) from exc
        if not 1 <= len(times) <= MAX_TIMES:
            raise BadInput(_l("Give from 1 to %(most)d start times, such as 09:00, 14:00.",
                              most=MAX_TIMES))
        minutes = read_minutes(form.get("minutes"), default_minutes)
        mode, location, meeting_url = read_place(form)
        return cls(first_day, days, tuple(sorted(set(times))), minutes,
                   form.get("weekdays_only") == "1", mode, location, meeting_url)

    def dates(self) -> list[date]:
        """The days the series covers: `days` days from the first, or with `weekdays_only`
        `days` weekdays (5 weekdays from a Wednesday run to the next Tuesday)."""
        found, day = [], self.first_day
        while len(found) < self.days:
            if not (self.weekdays_only and day.weekday() >= 5):
                found.append(day)
            day += timedelta(days=1)
        return found

    def starts(self, zone: ZoneInfo) -> list[tuple[datetime | None, str]]:
        """Every slot's start in UTC (None, with the local time, where the zone skips it)."""
        found = []
        for day in self.dates():
            for clock in self.times:
                # The page's language names the day ("Tue 3 Mar", "wt. 3 mar").
                label = f"{format_date(day, 'EEE d MMM')} {clock:%H:%M}"
                try:
                    found.append((to_utc(day, clock, zone), label))
                except BadTime:
                    found.append((None, label))
        return found


@dataclass
class Published:
    """What publish_slots did: the slots made, and each time left out with the reason."""

    created: list[AvailabilitySlot] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def publish_slots(launch: LaunchContext, series: SlotSeries, zone: ZoneInfo,
                  now: datetime | None = None) -> Published:
    """Make the series' slots for the launch's mentor, leaving out past and clashing times."""
    require_mentor(launch)
    course_id = course_of(launch)
    now = now or utcnow()
    starts = series.starts(zone)
    if len(starts) > MAX_SLOTS:
        raise BadInput(_l("That makes %(count)d slots; publish at most %(most)d at once.",
                          count=len(starts), most=MAX_SLOTS))
    length = timedelta(minutes=series.minutes)
    taken = _mentor_busy_times(launch.person_id,
                               min((s for s, _ in starts if s), default=now),
                               max((s for s, _ in starts if s), default=now) + length)
    outcome = Published()
    for start, label in starts:
        if start is None:
            outcome.skipped.append((label, _l("the clocks go forward then")))
            continue
        end = start + length
        if start <= now:
            outcome.skipped.append((label, _l("already passed")))
        elif any(start < other_end and end > other_start for other_start, other_end in taken):
            outcome.skipped.append((label, _l("overlaps one of your sessions or slots")))
        else:
            slot = AvailabilitySlot(course_id=course_id, mentor_id=launch.person_id,
                                    start_dt=start, end_dt=end, mode=series.mode,
                                    location=series.location, meeting_url=series.meeting_url)
            db.session.add(slot)
            outcome.created.append(slot)
            taken.append((start, end))
    db.session.flush()
    return outcome


def _mentor_busy_times(mentor_id: int, start: datetime, end: datetime
                       ) -> list[tuple[datetime, datetime]]:
    """The mentor's live sessions and offered slots (any course) overlapping [start, end)."""
    sessions = db.session.execute(
        select(MentoringSession.start_dt, MentoringSession.end_dt).where(
            MentoringSession.status != SessionStatus.CANCELLED,
            or_(MentoringSession.mentor_id == mentor_id,
                MentoringSession.learner_id == mentor_id),
            MentoringSession.start_dt < end, MentoringSession.end_dt > start)
    ).all()
    slots = db.session.execute(
        select(AvailabilitySlot.start_dt, AvailabilitySlot.end_dt).where(
            AvailabilitySlot.mentor_id == mentor_id, AvailabilitySlot.withdrawn_dt.is_(None),
            AvailabilitySlot.start_dt < end, AvailabilitySlot.end_dt > start)
    ).all()
    return [(row.start_dt, row.end_dt) for row in [*sessions, *slots]]


def _mentor_free():
    """SQL: the slot's mentor has no live session overlapping it (booked slots included)."""
    return ~exists().where(
        MentoringSession.status != SessionStatus.CANCELLED,
        or_(MentoringSession.mentor_id == AvailabilitySlot.mentor_id,
            MentoringSession.learner_id == AvailabilitySlot.mentor_id),
        MentoringSession.start_dt < AvailabilitySlot.end_dt,
        MentoringSession.end_dt > AvailabilitySlot.start_dt,
    )


def open_slots(launch: LaunchContext, now: datetime | None = None,
               rules: BookingRules | None = None) -> list[AvailabilitySlot]:
    """Slots of the launch's course a learner may book now: free, and beyond the guard time."""
    rules = rules or BookingRules.from_config()
    earliest = (now or utcnow()) + rules.guard
    return list(db.session.scalars(
        select(AvailabilitySlot)
        .options(joinedload(AvailabilitySlot.mentor))
        .where(AvailabilitySlot.course_id == course_of(launch),
               AvailabilitySlot.withdrawn_dt.is_(None),
               AvailabilitySlot.start_dt >= earliest,
               bookable_mentors(launch, AvailabilitySlot.mentor_id),
               _mentor_free())
        .order_by(AvailabilitySlot.start_dt, AvailabilitySlot.id)
    ))


@dataclass(frozen=True)
class MentorSlot:
    """One of the mentor's offered slots and the session booked in it, if any."""

    slot: AvailabilitySlot
    session: MentoringSession | None
    #: Why learners do not see this free slot (open_slots leaves it out); None if they do.
    hidden_reason: str | None = None


def mentor_slots(launch: LaunchContext, now: datetime | None = None,
                 rules: BookingRules | None = None) -> list[MentorSlot]:
    """The launch's mentor's slots in the course that have not ended, with their bookings,
    and for each free slot learners cannot book, the reason (the same rules as open_slots)."""
    require_mentor(launch)
    now = now or utcnow()
    rules = rules or BookingRules.from_config()
    slots = list(db.session.scalars(
        select(AvailabilitySlot)
        .where(AvailabilitySlot.course_id == course_of(launch),
               AvailabilitySlot.mentor_id == launch.person_id,
               AvailabilitySlot.withdrawn_dt.is_(None),
               AvailabilitySlot.end_dt > now)
        .order_by(AvailabilitySlot.start_dt)
    ))
    bookable = {slot.id for slot in open_slots(launch, now, rules)}
    booked = {}
    if slots:
        booked = {session.slot_id: session for session in db.session.scalars(
            select(MentoringSession)
            .options(joinedload(MentoringSession.learner))
            .where(MentoringSession.slot_id.in_([slot.id for slot in slots]),
                   MentoringSession.status != SessionStatus.CANCELLED)
        )}
    hours = int(rules.guard.total_seconds() // 3600)

    def reason(slot: AvailabilitySlot) -> str | None:
        if slot.id in bookable or slot.id in booked:
            return None
        if slot.start_dt < now + rules.guard:
            return ngettext("hidden from learners: it starts within %(num)d hour, the booking "
                            "guard", "hidden from learners: it starts within %(num)d hours, "
                            "the booking guard", hours)
        return str(_l("hidden from learners: you have another session at that time"))

    return [MentorSlot(slot, booked.get(slot.id), reason(slot)) for slot in slots]


def withdraw_slot(launch: LaunchContext, slot_id: int, now: datetime | None = None) -> None:
    """The mentor takes back one of their slots that nobody has booked."""
    require_mentor(launch)
    slot = db.session.scalar(
        select(AvailabilitySlot).where(AvailabilitySlot.id == slot_id,
                                       AvailabilitySlot.course_id == course_of(launch),
                                       AvailabilitySlot.mentor_id == launch.person_id,
                                       AvailabilitySlot.withdrawn_dt.is_(None))
    )
    if slot is None:
        raise NotFound(f"no open slot {slot_id} of mentor {launch.person_id}")
    if _live_booking(slot.id) is not None:
        raise BookingRefused(_l("This slot is booked. Cancel the session instead, with a "
                                "reason for the learner."))
    slot.withdrawn_dt = now or utcnow()
    db.session.flush()


def book_slot(launch: LaunchContext, slot_id: int, now: datetime | None = None,
              rules: BookingRules | None = None) -> MentoringSession:
    """The launch's learner books a slot of their course for themself."""
    require_learner(launch)
    now = now or utcnow()
    rules = rules or BookingRules.from_config()
    slot = db.session.scalar(
        select(AvailabilitySlot).where(AvailabilitySlot.id == slot_id,
                                       AvailabilitySlot.course_id == course_of(launch),
                                       AvailabilitySlot.withdrawn_dt.is_(None),
                                       bookable_mentors(launch, AvailabilitySlot.mentor_id))
    )
    if slot is None:
        raise NotFound(f"no open slot {slot_id} in course {launch.course_id}")
    if slot.start_dt - now < rules.guard:
        raise BookingRefused(guard_text(rules, "booked"))
    # Locked first: the count and the slot's state below then include every other booking.
    hold_calendars(slot.mentor_id, launch.person_id)
    if upcoming_count(slot.course_id, launch.person_id, now) >= rules.learner_max_upcoming:
        raise BookingRefused(ngettext(
            "You already have an upcoming session. Cancel it first, or ask your mentor for "
            "another.",
            "You already have upcoming sessions (at most %(num)d). Cancel one first, or ask "
            "your mentor for another.", rules.learner_max_upcoming))
    if _live_booking(slot.id) is not None:
        raise BookingRefused(_l("Someone has just booked this slot. Choose another one."))
    return place_session(
        course_id=slot.course_id, mentor_id=slot.mentor_id, learner_id=launch.person_id,
        start_dt=slot.start_dt, end_dt=slot.end_dt, mode=slot.mode, location=slot.location,
        meeting_url=slot.meeting_url, slot_id=slot.id, created_by_id=launch.person_id,
        agenda=default_agenda(slot.course_id, launch.person_id, launch.locale), now=now,
    )


def _live_booking(slot_id: int) -> MentoringSession | None:
    return db.session.scalar(
        select(MentoringSession).where(MentoringSession.slot_id == slot_id,
                                       MentoringSession.status != SessionStatus.CANCELLED)
    )

