"""One-click unsubscribe links: a signed token naming a person and a kind, no login needed.

The token is signed with SECRET_KEY (itsdangerous) under its own salt, so it cannot be made
up, altered, or used as anything else (a launch token, say). It does not expire: a link in
an e-mail from last year still stops that kind of e-mail, as RFC 8058 expects.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from lti_tool.notifications.kinds import Kind, kind_named

SALT = "dmd-mail-unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    """Whose e-mails of which kind a token stops."""

    person_id: int
    kind: Kind


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(person_id: int, kind: Kind) -> str:
    """The signed token for a person's unsubscribe link from one kind."""
    return _serializer().dumps([person_id, kind.value])


def read_token(token: str) -> Unsubscribe | None:
    """What a token stops, or None when it is not one the tool signed."""
    if not token or len(token) > 200:
        return None
    try:
        person_id, kind_name = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    kind = kind_named(kind_name)
    if kind is None or not isinstance(person_id, int):
        return None
    return Unsubscribe(person_id, kind)


def unsubscribe_url(person_id: int, kind: Kind) -> str:
    """The link in a message's footer and its List-Unsubscribe header."""
    return f"{current_app.config['TOOL_URL']}/mail/unsubscribe/{make_token(person_id, kind)}"
