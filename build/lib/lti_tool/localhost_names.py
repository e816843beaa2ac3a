"""`*.localhost` names resolve to the loopback address, as RFC 6761 (6.3) asks and browsers do.

The development platform's Canvas profile serves a school's own host and Canvas's login host
as `school.localhost` and `sso.localhost`, so that launches cross hosts as they do between
`school.instructure.com` and `sso.canvaslms.com`. Chromium resolves such names itself; the
C library here does not, so the tool could not fetch the platform's keys or call its services.
Installed only in development and test (create_app): production resolves names as the system
does.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"
_original = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    """socket.getaddrinfo, with every name under .localhost answered by the loopback."""
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.lower().rstrip(".").endswith(".localhost"):
        host = LOOPBACK
    return _original(host, *args, **kwargs)


def install() -> None:
    """Resolve `*.localhost` to the loopback in this process (idempotent)."""
    socket.getaddrinfo = _getaddrinfo
