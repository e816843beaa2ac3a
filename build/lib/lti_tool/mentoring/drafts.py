"""What the mentors' booking forms give: a session's time, length, place and agenda, read
from the posted form and checked, with a message naming the field when it cannot be used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lti_tool.i18n import lazy_gettext as _l
from lti_tool.mentoring.models import MeetingMode
from lti_tool.mentoring.scope import BadInput
from lti_tool.mentoring.timezones import BadTime, parse_local

MIN_MINUTES = 15
MAX_MINUTES = 8 * 60
MAX_AGENDA = 5000


@dataclass(frozen=True)
class SessionDraft:
    """When and where a session takes place, and what it is about, as a mentor gives it."""

    start_dt: datetime
    minutes: int
    mode: MeetingMode
    location: str
    meeting_url: str
    agenda: str

    @property
    def end_dt(self) -> datetime:
        """When the session ends (UTC)."""
        return self.start_dt + timedelta(minutes=self.minutes)

    @classmethod
    def from_form(cls, form: Mapping[str, str], zone: ZoneInfo,
                  default_minutes: int) -> SessionDraft:
        """Read the booking form (date and time in `zone`); BadInput naming the problem."""
        try:
            start = parse_local(form.get("date"), form.get("time"), zone)
        except BadTime as exc:
            raise BadInput(str(exc)) from exc
        minutes = read_minutes(form.get("minutes"), default_minutes)
        mode, location, meeting_url = read_place(form)
        agenda = (form.get("agenda") or "").strip()
        if len(agenda) > MAX_AGENDA:
            raise BadInput(_l("The agenda is too long (at most %(most)d characters).",
                              most=MAX_AGENDA))
        return cls(start, minutes, mode, location, meeting_url, agenda)


def read_minutes(raw: str | None, default: int) -> int:
    """A duration in minutes from a form; the default when left empty."""
    if raw in (None, ""):
        return default
    try:
        minutes = int(raw)
    except ValueError as exc:
        raise BadInput(_l("Give the duration in whole minutes.")) from exc
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise BadInput(_l("A session lasts from %(least)d to %(most)d minutes.",
                          least=MIN_MINUTES, most=MAX_MINUTES))
    return minutes


def read_place(form: Mapping[str, str]) -> tuple[MeetingMode, str, str]:
    """Mode, location and meeting link from a form: a location in person, a link online."""
    try:
        mode = MeetingMode(form.get("mode") or "")
    except ValueError as exc:
        raise BadInput(_l("Choose whether the session is in person or online.")) from exc
    location = (form.get("location") or "").strip()
    meeting_url = (form.get("meeting_url") or "").strip()
    if mode is MeetingMode.IN_PERSON:
        if not location:
            raise BadInput(
                _l("Give the location of an in-person session (a room, an address)."))
        if len(location) > 255:
            raise BadInput(_l("The location is too long (at most %(most)d characters).",
                              most=255))
        return mode, location, ""
    parts = urlsplit(meeting_url)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(meeting_url) > 1024:
        raise BadInput(_l("Give the link of an online session, starting with https://."))
    return mode, "", meeting_url
