"""Secrets that travel in URLs, masked in every request log the project configures.

The launch token (`lt`), Dynamic Registration's `registration_token`, `openid_configuration`
and invitation code (`invite`), and calendar feed tokens (`/calendar/<token>.ics`) are in
request lines and in same-origin Referers. Access logs are read by more people, and kept
longer, than the sessions they would open: the masks go on before a line is written.
"""

from __future__ import annotations

import logging
import re

#: Query parameters whose values are secrets (or, for openid_configuration, name who is
#: registering and where).
SECRET_PARAMS = ("lt", "registration_token", "openid_configuration", "invite")
#: Headers whose values are secrets, when an operator's log format names them.
SECRET_HEADERS = ("x-launch-token", "authorization", "cookie")
MASK = "***"

_PARAM = re.compile(
    r"(?P<lead>^|[?&;\s])(?P<name>" + "|".join(SECRET_PARAMS) + r")=[^&;\s\"'#]*", re.I)
_FEED = re.compile(r"(/calendar/)[^/?\s\"']+(\.ics)")


def mask(text: str) -> str:
    """`text` with the values of secret query parameters and feed tokens replaced."""
    if not text:
        return text
    return _FEED.sub(rf"\g<1>{MASK}\g<2>", _PARAM.sub(rf"\g<lead>\g<name>={MASK}", text))


class MaskingFilter(logging.Filter):
    """A logging filter that masks the formatted message (werkzeug's request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its masked form; never drops a record."""
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_werkzeug_filter() -> None:
    """Mask the development server's request log (`make run`, the tests' live servers)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, MaskingFilter) for f in logger.filters):
        logger.addFilter(MaskingFilter())
