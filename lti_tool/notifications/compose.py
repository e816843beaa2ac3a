"""A queued notification as a MIME message, in the recipient's language.

Plain text and HTML from `templates/mail/<kind>.txt|.html` (the HTML autoescaped, so a name
or a reason typed by someone cannot inject markup), the attachments (an .ics invitation as
a `text/calendar; method=...` part, as calendar programs expect), and the headers of RFC
2369/8058 one-click unsubscribe.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from flask import current_app, render_template
from flask_babel import force_locale

from lti_tool.i18n import LANGUAGES, language_of
from lti_tool.notifications.kinds import KINDS, Kind
from lti_tool.notifications.models import Notification
from lti_tool.notifications.unsubscribe import unsubscribe_url

_METHOD = re.compile(r"^METHOD:(\w+)", re.MULTILINE)


def recipient_language(locale: str | None) -> str:
    """The language of a person's e-mails: that of their last launch, else English."""
    return language_of(locale) or LANGUAGES[0]


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_when(start: str, end: str | None, zone_name: str | None, language: str) -> str:
    """"Tue 3 March 2026, 10:00–11:30 CET" from ISO UTC times, in the zone and language."""
    zone = _zone(zone_name)
    begin = datetime.fromisoformat(start).replace(tzinfo=UTC).astimezone(zone)
    text = format_datetime(begin, "EEE d MMMM y, HH:mm", tzinfo=zone, locale=language)
    if end:
        finish = datetime.fromisoformat(end).replace(tzinfo=UTC).astimezone(zone)
        text += (f"–{finish:%H:%M}" if finish.date() == begin.date() else
                 " – " + format_datetime(finish, "EEE d MMMM y, HH:mm", tzinfo=zone,
                                         locale=language))
    return f"{text} {begin.tzname()}"


def format_day(day: str, language: str) -> str:
    """"3 March 2026" from an ISO date, in the language."""
    return format_date(date.fromisoformat(day), "d MMMM y", locale=language)


def _view(notification: Notification, language: str) -> dict:
    """The template context: what was enqueued, plus what every message shows."""
    context = dict(notification.context)
    if "start" in context:
        context["when"] = format_when(context["start"], context.get("end"), context.get("zone"),
                                      language)
    for name in ("due_date", "target_date"):
        if name in context:
            context[name + "_text"] = format_day(context[name], language)
    kind = Kind(notification.kind)
    context.update(
        recipient_name=notification.recipient.display_name,
        tool_name=current_app.config["TOOL_NAME"],
        unsubscribe_url=unsubscribe_url(notification.recipient_id, kind),
        kind_label=str(KINDS[kind].label),
    )
    return context


def build_message(notification: Notification, address: str) -> EmailMessage:
    """The whole message for one notification, ready for SMTP."""
    kind = Kind(notification.kind)
    language = recipient_language(notification.recipient.locale)
    with force_locale(language):
        context = _view(notification, language)
        subject = str(KINDS[kind].subject) % _SafeDict(context)
        text = render_template(f"mail/{kind.value}.txt", **context)
        html = render_template(f"mail/{kind.value}.html", language=language, subject=subject,
                               **context)
    message = EmailMessage()
    # A subject holds names typed by people: no line breaks may reach the header.
    message["Subject"] = " ".join(subject.split())
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((notification.recipient.display_name, address))
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = notification.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for attachment in notification.attachments:
        _attach(message, attachment)
    # After the parts: setting content clears every Content-* header.
    message["Content-Language"] = language
    return message


def _attach(message: EmailMessage, attachment: dict[str, str]) -> None:
    maintype, subtype = attachment["mimetype"].split("/", 1)
    if maintype != "text":
        raise ValueError(f"only text attachments are queued, not {attachment['mimetype']}")
    params = {}
    if attachment["mimetype"] == "text/calendar":
        # Calendar programs act on the part's method (RFC 6047): REQUEST adds, CANCEL removes.
        found = _METHOD.search(attachment["text"])
        if found:
            params["method"] = found.group(1)
    message.add_attachment(attachment["text"], subtype=subtype,
                           filename=attachment["filename"], params=params)


class _SafeDict(dict):
    """%-formatting that leaves a missing key visible instead of failing the message."""

    def __missing__(self, key: str) -> str:
        return f"%({key})s"
