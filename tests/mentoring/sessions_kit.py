"""Helpers for the session, goal, calendar, note and plan tests: a course with a mentor and
learners (built from the fixtures in conftest.py), times in the future, and form posts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import unescape

from lti_tool.identity.models import Person, Role, utcnow
from lti_tool.lti.session import LaunchContext, load_context

ZONE = "Europe/Warsaw"


@dataclass
class MentoredCourse:
    """A course with one mentor and some learners, and a launch token for each of them."""

    activity: object
    mentor: Person
    learners: list[Person]
    mentor_token: str
    learner_tokens: list[str] = field(default_factory=list)

    @property
    def learner(self) -> Person:
        """The first learner."""
        return self.learners[0]

    @property
    def learner_token(self) -> str:
        """The first learner's launch token."""
        return self.learner_tokens[0]

    @property
    def mentor_launch(self) -> LaunchContext:
        """The mentor's LaunchContext (for calling services directly)."""
        return load_context(self.mentor_token)

    def learner_launch(self, index: int = 0) -> LaunchContext:
        """A learner's LaunchContext."""
        return load_context(self.learner_tokens[index])


def mentored_course(make_activity, make_person, token_for, *, platform=None, label="A",
                    learners: int = 2, locale_names: bool = True) -> MentoredCourse:
    """A course (on a new platform unless one is given) with a mentor and learners."""
    activity = make_activity(platform=platform, label=label)
    mentor = make_person(activity, Role.MENTOR, given_name="Maja", family_name=f"Mentor{label}",
                         email=f"maja.{label.lower()}@example.edu")
    people = [make_person(activity, given_name=f"Learner{label}{n}", family_name="Kowalska",
                          email=f"learner{n}.{label.lower()}@example.edu")
              for n in range(learners)]
    course = MentoredCourse(activity, mentor, people, token_for(activity, mentor, Role.MENTOR))
    course.learner_tokens = [token_for(activity, person, Role.LEARNER) for person in people]
    return course


def winter_day() -> date:
    """15 January next year: in the future, and in standard time (CET) in Warsaw."""
    return date(utcnow().year + 1, 1, 15)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A naive UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, minute)


def in_days(days: int, hour: int = 9) -> datetime:
    """Naive UTC, `days` from today at `hour`:00."""
    return at(utcnow().date() + timedelta(days=days), hour)


def booking_form(token: str, learner_id: int, day: date, clock: str, *, zone: str = ZONE,
                 **extra: str) -> dict[str, str]:
    """The mentor's booking form as a browser posts it."""
    form = {"lt": token, "tz": zone, "learner_id": str(learner_id), "date": day.isoformat(),
            "time": clock, "minutes": "", "mode": "in_person", "location": "Room 2.14",
            "agenda": "Review of the profile"}
    form.update(extra)
    return form


def get(client, path: str, token: str, **params):
    """A GET carrying the launch token, as the tool's links do."""
    return client.get(path, query_string={"lt": token, **params})


def text_of(response) -> str:
    """A response's HTML with tags removed, entities decoded and spaces collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
