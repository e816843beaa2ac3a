"""What every mentoring page needs: the viewer's clock, and domain errors as HTTP answers.

Views of the sessions, goals and plan blueprints call `viewer_clock()` for the zone to show
times in, and `answer_errors(bp)` turns NotFound into 404 and NotAllowed into 403, after
rolling back whatever the request had begun.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_babel import get_locale
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import NotFound as HTTPNotFound

from lti_tool.extensions import db
from lti_tool.mentoring.scope import NotAllowed, NotFound
from lti_tool.mentoring.timezones import Clock, viewer_zone

log = logging.getLogger(__name__)
#: The field (POST) or query argument (GET) in which timezone.js reports the browser's zone.
ZONE_FIELD = "tz"


def viewer_clock() -> Clock:
    """The launch's person's clock, in the page's language; a zone their browser reports is
    remembered (flushed)."""
    zone = viewer_zone(g.launch.person_id, g.launch.locale, request.values.get(ZONE_FIELD),
                       current_app.config["DEFAULT_TIMEZONE"])
    locale = get_locale()
    return Clock(zone, locale.language if locale is not None else "en")


def page(template: str, status: int = 200, **context):
    """Render a page, then commit what the request wrote (a newly reported time zone)."""
    html = render_template(template, launch=g.launch, **context)
    db.session.commit()
    return html, status


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    """A download that nothing in between keeps a copy of."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def answer_errors(bp: Blueprint) -> None:
    """NotFound → 404 and NotAllowed → 403 for every view of the blueprint."""

    @bp.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        db.session.rollback()
        # Someone else's session or goal looks exactly like one that does not exist.
        log.warning("person %s on %s: %s", _who(), request.path, exc)
        return render_template("error.html", error=HTTPNotFound(), launch=g.get("launch")), 404

    @bp.errorhandler(NotAllowed)
    def _not_allowed(exc: NotAllowed):
        db.session.rollback()
        log.warning("person %s refused on %s: %s", _who(), request.path, exc)
        return render_template("error.html", error=Forbidden(), launch=g.get("launch")), 403


def _who() -> int | None:
    launch = g.get("launch")
    return launch.person_id if launch is not None else None
