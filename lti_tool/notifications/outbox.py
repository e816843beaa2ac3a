"""`enqueue`: put one e-mail in the outbox, in the caller's transaction.

The one API every feature uses: `enqueue(kind, recipient, context, key)`. It never talks to
the mail server, so a booking is as fast with the mail server down as up and a rolled-back
booking sends nothing. The same (kind, recipient, key) is enqueued once, even by two
workers scanning at the same moment (INSERT ... ON CONFLICT DO NOTHING on the unique key).

Nothing is enqueued when mail is not configured (MAIL_HOST empty), when the person has no
e-mail address (the platform withholds it), or when they turned this kind off.
"""

from __future__ import annotations

import logging
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite

from lti_tool.extensions import db
from lti_tool.identity.models import Person, utcnow
from lti_tool.notifications.kinds import KINDS, Kind
from lti_tool.notifications.models import MailPreference, MailStatus, Notification

log = logging.getLogger(__name__)


class BadNotification(ValueError):
    """A caller's mistake: a context without a key its kind's templates need."""


def mail_enabled() -> bool:
    """Whether a mail server is configured."""
    return bool(current_app.config.get("MAIL_HOST"))


def can_email(person: Person) -> bool:
    """Whether the tool has an address for this person (platforms may withhold it)."""
    return bool((person.email or "").strip())


def wants(person_id: int, kind: Kind) -> bool:
    """Whether the person gets this kind of e-mail (they have not turned it off)."""
    return not db.session.scalar(select(exists().where(
        MailPreference.person_id == person_id, MailPreference.kind == kind.value)))


def full_key(kind: Kind, recipient_id: int, key: str) -> str:
    """The stored idempotency key: one message per kind, recipient and occurrence."""
    return f"{kind.value}:{recipient_id}:{key}"[:255]


def enqueue(kind: Kind, recipient: Person, context: dict[str, Any], key: str,
            attachments: list[dict[str, str]] | None = None) -> bool:
    """Add an e-mail to the outbox (flushed, not committed); whether one was added.

    `key` names the occurrence (e.g. a session's UID and SEQUENCE); enqueueing the same kind
    for the same recipient and key again adds nothing. `context` must be JSON (times as ISO
    strings) and hold the keys the kind's templates need (kinds.KINDS).
    """
    missing = [name for name in KINDS[kind].needs if name not in context]
    if missing:
        raise BadNotification(f"{kind.value} needs {', '.join(missing)} in its context")
    if not mail_enabled() or not can_email(recipient) or not wants(recipient.id, kind):
        return False
    host = urlsplit(current_app.config["TOOL_URL"]).hostname or "localhost"
    values = {
        "kind": kind.value, "recipient_id": recipient.id,
        "key": full_key(kind, recipient.id, key), "context": context,
        "attachments": attachments or [], "message_id": make_msgid("dmd", domain=host),
        "status": MailStatus.PENDING, "attempts": 0, "next_try_dt": utcnow(),
        "created_dt": utcnow(),
    }
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING says whether a row went in (an ORM insert's rowcount is not reliable).
    added = db.session.execute(
        insert(Notification).values(**values).on_conflict_do_nothing(index_elements=["key"])
        .returning(Notification.id)
    ).scalar() is not None
    if added:
        log.info("e-mail %s for person %s enqueued (%s)", kind.value, recipient.id, key)
    return added
