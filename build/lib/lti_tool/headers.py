"""Security headers on every response of the tool.

The tool is embedded by LMS pages, so `frame-ancestors` lists the registered platforms'
origins (not `X-Frame-Options`, which cannot name several). No page uses inline script
or style, so the policy allows neither.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lti_tool.extensions import db
from lti_tool.identity.models import Platform

log = logging.getLogger(__name__)
#: Seconds a worker reuses its list of platform origins before reading it again.
ORIGINS_TTL = 60


def origin_of(url: str | None) -> str | None:
    """scheme://host[:port] of an http(s) URL; None for anything else."""
    parts = urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def platform_origins() -> list[str]:
    """Origins that may frame the tool: every registered platform's site and login host,
    plus the origins seen sending launches (Canvas pages live on the school's own host)."""
    cache = current_app.extensions.setdefault("frame_origins", {"at": 0.0, "origins": []})
    if time.monotonic() - cache["at"] < ORIGINS_TTL:
        return cache["origins"]
    origins: set[str] = set(current_app.config.get("FRAME_ANCESTORS_EXTRA") or [])
    try:
        platforms = db.session.scalars(select(Platform)).all()
    except SQLAlchemyError as exc:
        # No database: answer with what this worker knew, rather than fail the response.
        log.error("frame-ancestors: platforms unreadable (%s)", exc)
        return cache["origins"]
    for platform in platforms:
        for url in (platform.issuer, platform.auth_login_url, *(platform.frame_origins or [])):
            origin = origin_of(url)
            if origin:
                origins.add(origin)
    cache.update(at=time.monotonic(), origins=sorted(origins))
    return cache["origins"]


def forget_origins() -> None:
    """Drop this worker's cached origins (after a registration changes them)."""
    current_app.extensions.pop("frame_origins", None)


def content_security_policy(extra_frame_urls: Iterable[str | None] = ()) -> str:
    """The CSP for tool pages; `extra_frame_urls` may also frame this one page.

    Pages shown before a platform is known (registration, the launch's own checks) name the
    page that may frame them here, rather than widening the policy for every page.
    """
    known = platform_origins()
    extra = sorted({origin_of(url) for url in extra_frame_urls} - {None} - set(known))
    ancestors = " ".join(["'self'", *known, *extra])
    form_targets = " ".join(["'self'", *known])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        # Deep Linking answers by posting a form to the platform.
        f"form-action {form_targets}",
        f"frame-ancestors {ancestors}",
    ])


def add_security_headers(response):
    """after_request hook: CSP, nosniff, Referrer-Policy, and HSTS under https."""
    if request.endpoint != "static":
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
    # Launch tokens travel in URLs; never let them leak to another site in a Referer.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    return response


def install(app: Flask) -> None:
    """Attach the headers to every response."""
    app.after_request(add_security_headers)
