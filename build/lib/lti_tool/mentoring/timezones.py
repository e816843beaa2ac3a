"""Whose clock a page shows: the viewer's time zone, and UTC ⇄ local time.

Times are stored in UTC. A page shows them in the viewer's zone, chosen in this order: the
zone the browser just reported (timezone.js sends `Intl.DateTimeFormat().resolvedOptions()
.timeZone` as `tz`), the zone it reported before (a TimezonePreference), the usual zone of
the launch's locale ("pl" → Europe/Warsaw; a bare "en" has none), then DEFAULT_TIMEZONE.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow
from lti_tool.mentoring.models import TimezonePreference

#: The zone most people with this locale live in; only locales where one zone is a fair guess.
LOCALE_ZONES = {
    "pl": "Europe/Warsaw", "de": "Europe/Berlin", "de-at": "Europe/Vienna",
    "de-ch": "Europe/Zurich", "fr": "Europe/Paris", "fr-be": "Europe/Brussels",
    "fr-ch": "Europe/Zurich", "it": "Europe/Rome", "es": "Europe/Madrid", "nl": "Europe/Amsterdam",
    "nl-be": "Europe/Brussels", "pt": "Europe/Lisbon", "pt-br": "America/Sao_Paulo",
    "cs": "Europe/Prague", "sk": "Europe/Bratislava", "hu": "Europe/Budapest",
    "ro": "Europe/Bucharest", "bg": "Europe/Sofia", "el": "Europe/Athens", "fi": "Europe/Helsinki",
    "sv": "Europe/Stockholm", "da": "Europe/Copenhagen", "nb": "Europe/Oslo", "no": "Europe/Oslo",
    "lt": "Europe/Vilnius", "lv": "Europe/Riga", "et": "Europe/Tallinn", "uk": "Europe/Kyiv",
    "hr": "Europe/Zagreb", "sl": "Europe/Ljubljana", "tr": "Europe/Istanbul", "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul", "he": "Asia/Jerusalem", "en-gb": "Europe/London", "en-ie": "Europe/Dublin",
    "en-nz": "Pacific/Auckland", "en-in": "Asia/Kolkata", "en-za": "Africa/Johannesburg",
    "ga": "Europe/Dublin", "cy": "Europe/London",
}
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}")


class BadTime(ValueError):
    """A local date and time that cannot be read, or that the zone skips (clocks go forward)."""


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone with this IANA name, or None when the name is not a known zone."""
    if not name or len(name) > 64 or not _ZONE_NAME.fullmatch(name):
        return None
    if name not in _known_zones() and name != "UTC":
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def locale_zone(locale: str | None) -> str | None:
    """The usual zone of a locale ("pl", "pl-PL", "en_GB"), when one is a fair guess."""
    if not locale:
        return None
    wanted = locale.replace("_", "-").lower()
    return LOCALE_ZONES.get(wanted) or LOCALE_ZONES.get(wanted.split("-")[0])


def viewer_zone(person_id: int, locale: str | None, reported: str | None,
                default: str) -> ZoneInfo:
    """The zone to show this person's pages in; a newly reported zone is remembered (flush)."""
    zone = zone_named(reported)
    saved = db.session.scalar(
        select(TimezonePreference.timezone).where(TimezonePreference.person_id == person_id))
    if zone is not None:
        if saved != zone.key:
            _remember(person_id, zone.key)
        return zone
    for name in (saved, locale_zone(locale), default):
        zone = zone_named(name)
        if zone is not None:
            return zone
    return ZoneInfo("UTC")


def _remember(person_id: int, name: str) -> None:
    # An upsert: two first requests of one person at once must not collide on the key.
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(TimezonePreference)
        .values(person_id=person_id, timezone=name, updated_dt=utcnow())
        .on_conflict_do_update(index_elements=[TimezonePreference.person_id],
                               set_={"timezone": name, "updated_dt": utcnow()})
    )


def to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as naive UTC; BadTime when the zone skips that time.

    In the autumn hour that happens twice, the first (summer time) one is meant.
    """
    local = datetime.combine(day, clock).replace(tzinfo=zone, fold=0)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise BadTime(_l(
            "%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward then. "
            "Choose another time.", time=f"{clock:%H:%M}", day=day.isoformat(), zone=zone.key,
        ))
    return utc.replace(tzinfo=None)


def parse_local(day_text: str | None, time_text: str | None, zone: ZoneInfo) -> datetime:
    """Form values "2026-03-03" and "10:00" in `zone` as naive UTC; BadTime when unreadable."""
    try:
        day = date.fromisoformat((day_text or "").strip())
    except ValueError as exc:
        raise BadTime(_l("Give the date as YYYY-MM-DD.")) from exc
    try:
        clock = time.fromisoformat((time_text or "").strip())
    except ValueError as exc:
        raise BadTime(_l("Give the start time as HH:MM.")) from exc
    return to_utc(day, clock.replace(second=0, microsecond=0), zone)


def parse_day(text: str | None, what: object, *, required: bool = True) -> date | None:
    """A form's date (YYYY-MM-DD); BadTime naming `what` when it is unreadable or missing."""
    text = (text or "").strip()
    if not text:
        if required:
            raise BadTime(_l("Give %(what)s as YYYY-MM-DD.", what=what))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadTime(_l("Give %(what)s as YYYY-MM-DD.", what=what)) from exc


@dataclass(frozen=True)
class Clock:
    """Formats stored UTC times in one zone and language for a page; templates get one as
    `clock`."""

    zone: ZoneInfo
    #: The page's language, which names the days and months ("en", "pl").
    language: str = "en"

    @property
    def name(self) -> str:
        """The zone's IANA name, shown on every page that shows times."""
        return self.zone.key

    def local(self, moment: datetime) -> datetime:
        """A stored (naive UTC) time in this zone."""
        return moment.replace(tzinfo=UTC).astimezone(self.zone)

    def today(self, now: datetime) -> date:
        """The viewer's date at the (naive UTC) time `now`."""
        return self.local(now).date()

    def day(self, moment: datetime) -> str:
        """"Tue 3 March 2026" ("wt. 3 marca 2026")."""
        return format_date(self.local(moment).date(), "EEE d MMMM y", locale=self.language)

    def time(self, moment: datetime) -> str:
        """"10:00"."""
        return f"{self.local(moment):%H:%M}"

    def abbreviation(self, moment: datetime) -> str:
        """The zone's abbreviation at that moment ("CET", "CEST", "UTC")."""
        return self.local(moment).tzname() or self.name

    def when(self, start: datetime, end: datetime | None = None) -> str:
        """"Tue 3 March 2026, 10:00–11:30 CET" (the end's date too when it is another day)."""
        text = f"{self.day(start)}, {self.time(start)}"
        if end is not None:
            same_day = self.local(end).date() == self.local(start).date()
            text += f"–{self.time(end)}" if same_day else f" – {self.day(end)}, {self.time(end)}"
        return f"{text} {self.abbreviation(start)}"

    def input_date(self, moment: datetime) -> str:
        """The local date as an <input type=date> value."""
        return self.local(moment).date().isoformat()

    def input_time(self, moment: datetime) -> str:
        """The local time as an <input type=time> value."""
        return f"{self.local(moment):%H:%M}"

