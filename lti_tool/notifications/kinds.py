"""The kinds of e-mail the tool sends: for each, its subject and what it is for.

Each kind has two templates, `templates/mail/<kind>.txt` (plain text) and `<kind>.html`,
rendered in the recipient's language with the context given to `outbox.enqueue`. The keys
each kind's context holds are listed here; every kind also gets `recipient_name`,
`tool_name`, `unsubscribe_url` and `kind_label` from the sender.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lti_tool.i18n import LazyText
from lti_tool.i18n import lazy_gettext as _l


class Kind(enum.StrEnum):
    """A kind of e-mail; a person can turn each one off."""

    SESSION_BOOKED = "session_booked"
    SESSION_MOVED = "session_moved"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_REMINDER = "session_reminder"
    REFLECTION_DUE = "reflection_due"
    SUMMARY_PUBLISHED = "summary_published"
    ACTION_DUE = "action_due"
    ACTION_OVERDUE = "action_overdue"
    GOAL_REVIEW = "goal_review"
    RETAKE_OPEN = "retake_open"


@dataclass(frozen=True)
class KindInfo:
    """How one kind reads: its name on the settings page and its subject line."""

    label: LazyText
    #: %-formatted with the message's context.
    subject: LazyText
    #: The context keys its templates use (checked when it is enqueued).
    needs: tuple[str, ...]


_SESSION = ("other_name", "course_title", "start", "end", "zone", "where")

KINDS: dict[Kind, KindInfo] = {
    Kind.SESSION_BOOKED: KindInfo(
        _l("A mentoring session is booked"),
        _l("Mentoring session booked: %(when)s"), _SESSION),
    Kind.SESSION_MOVED: KindInfo(
        _l("A mentoring session is moved or changed"),
        _l("Mentoring session changed: %(when)s"), _SESSION),
    Kind.SESSION_CANCELLED: KindInfo(
        _l("A mentoring session is cancelled"),
        _l("Mentoring session cancelled: %(when)s"), (*_SESSION, "reason")),
    Kind.SESSION_REMINDER: KindInfo(
        _l("Reminder before a mentoring session"),
        _l("Reminder: mentoring session %(when)s"), _SESSION),
    Kind.REFLECTION_DUE: KindInfo(
        _l("A reflection before a session is due"),
        _l("Your reflection before the session of %(when)s"),
        ("other_name", "course_title", "start", "zone")),
    Kind.SUMMARY_PUBLISHED: KindInfo(
        _l("A session summary is published"),
        _l("Summary of your mentoring session of %(when)s"),
        ("other_name", "course_title", "start", "zone")),
    Kind.ACTION_DUE: KindInfo(
        _l("An action is due tomorrow"),
        _l("Due tomorrow: %(action_title)s"), ("action_title", "goal_title", "due_date",
                                               "course_title")),
    Kind.ACTION_OVERDUE: KindInfo(
        _l("An action is overdue"),
        _l("Overdue: %(action_title)s"), ("action_title", "goal_title", "due_date",
                                          "course_title")),
    Kind.GOAL_REVIEW: KindInfo(
        _l("A goal's review date is reached"),
        _l("Time to review your goal: %(goal_title)s"), ("goal_title", "target_date",
                                                          "course_title")),
    Kind.RETAKE_OPEN: KindInfo(
        _l("The questionnaire is open to take again"),
        _l("You can take the Design Mindset questionnaire again"), ("course_title",)),
}


def kind_named(name: str | None) -> Kind | None:
    """The kind with this value, or None."""
    try:
        return Kind(name or "")
    except ValueError:
        return None
