"""The post-launch session: a server-side LaunchSession found by a signed token.

Inside an LMS iframe the tool's cookies are third-party and may be blocked or
partitioned, so pages after the launch never depend on them: the token travels in links
(`?lt=`), forms (a hidden `lt` field) and fetch calls (the `X-Launch-Token` header). A
POST must carry it in the body or header, never only in the URL; since a third party
cannot know it, it also protects forms against CSRF.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import abort, current_app, g, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import true

from lti_tool.extensions import db
from lti_tool.identity.models import Course, MentorKind, Person, ResourceLink, Role, utcnow
from lti_tool.lti.models import LaunchSession
from lti_tool.lti.roles import mentor_kind, observed_users

log = logging.getLogger(__name__)
TOKEN_PARAM = "lt"
TOKEN_HEADER = "X-Launch-Token"
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"


@dataclass(frozen=True)
class LaunchContext:
    """Who is asking, in which course, with which role: what every service is given."""

    session_id: str
    token: str
    person_id: int
    platform_id: int
    deployment_id: int
    course_id: int | None
    resource_link_id: int | None
    role: Role
    message_type: str
    locale: str | None
    display_name: str
    course_title: str | None
    claims: dict[str, Any]
    #: For a mentor: lead, assistant or site administrator (None for everyone else).
    mentor_kind: MentorKind | None = None

    @property
    def is_mentor(self) -> bool:
        """True for a mentor role in this course."""
        return self.role is Role.MENTOR

    @property
    def observed_subs(self) -> tuple[str, ...]:
        """For an observer: the platform user ids (`sub`) their launch named; else ()."""
        if self.role is not Role.OBSERVER:
            return ()
        return observed_users(self.claims)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="launch-session")


def start_session(
    person: Person,
    deployment_id: int,
    course: Course | None,
    link: ResourceLink | None,
    role: Role,
    message_type: str,
    claims: dict[str, Any],
) -> str:
    """Create a LaunchSession for a validated launch and return its token."""
    minutes = current_app.config["LAUNCH_SESSION_MINUTES"]
    presentation = claims.get("https://purl.imsglobal.org/spec/lti/claim/launch_presentation")
    kept = {
        key: claims[key]
        for key in (
            "https://purl.imsglobal.org/spec/lti/claim/launch_presentation",
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
            "https://purl.imsglobal.org/spec/lti/claim/custom",
            # An observer's pages show exactly the users this claim names.
            "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor",
        )
        if key in claims
    }
    row = LaunchSession(
        id=secrets.token_urlsafe(32),
        person_id=person.id,
        deployment_id=deployment_id,
        course_id=course.id if course else None,
        resource_link_id=link.id if link else None,
        role=role,
        mentor_kind=_kind(role, claims),
        message_type=message_type,
        locale=(presentation or {}).get("locale") if isinstance(presentation, dict) else None,
        claims=kept,
        expires_dt=utcnow() + timedelta(minutes=minutes),
    )
    db.session.add(row)
    db.session.flush()
    return _serializer().dumps(row.id)


def _kind(role: Role, claims: dict[str, Any]) -> MentorKind | None:
    """The mentor kind of a launch. A real launch always carries its roles; a session made
    without them (tests, scripts) gets the narrowest kind that still mentors."""
    if role is not Role.MENTOR:
        return None
    return mentor_kind(claims.get(ROLES_CLAIM) or ()) or MentorKind.ASSISTANT


class SessionProblem(Exception):
    """The request's launch token is missing, forged or expired."""


def _token_from_request() -> str | None:
    if request.method in ("GET", "HEAD"):
        return request.args.get(TOKEN_PARAM) or request.headers.get(TOKEN_HEADER)
    return request.form.get(TOKEN_PARAM) or request.headers.get(TOKEN_HEADER)


def load_context(token: str | None) -> LaunchContext:
    """The LaunchContext behind a token, or SessionProblem."""
    if not token:
        raise SessionProblem("no launch token")
    max_age = current_app.config["LAUNCH_SESSION_MINUTES"] * 60
    try:
        session_id = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise SessionProblem("launch token expired") from exc
    except BadSignature as exc:
        raise SessionProblem("launch token forged or damaged") from exc
    row = db.session.get(LaunchSession, session_id)
    if row is None or row.expires_dt <= utcnow():
        raise SessionProblem("launch session ended")
    return LaunchContext(
        session_id=row.id,
        token=token,
        person_id=row.person_id,
        platform_id=row.person.platform_id,
        deployment_id=row.deployment_id,
        course_id=row.course_id,
        resource_link_id=row.resource_link_id,
        role=row.role,
        mentor_kind=row.mentor_kind,
        message_type=row.message_type,
        locale=row.locale,
        display_name=row.person.display_name,
        course_title=row.course.display_title if row.course else None,
        claims=row.claims or {},
    )


def launch_required(view: Callable) -> Callable:
    """Let the view run only with a valid launch token; `g.launch` is its context."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            g.launch = load_context(_token_from_request())
        except SessionProblem as exc:
            log.info("launch session refused on %s: %s", request.path, exc)
            wants_json = request.accept_mimetypes.best == "application/json" or request.is_json
            if wants_json:
                return {"error": "session", "message": str(exc)}, 401
            return render_template("lti/session_expired.html", reason=str(exc)), 401
        return view(*args, **kwargs)

    return wrapper


def role_required(*roles: Role) -> Callable:
    """Let the view run only for these roles (403 otherwise); implies launch_required."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if g.launch.role not in roles:
                log.warning(
                    "person %s with role %s refused on %s",
                    g.launch.person_id, g.launch.role, request.path,
                )
                abort(403)
            return view(*args, **kwargs)

        return launch_required(checked)

    return decorator


def launch_url_for(endpoint: str, **values: Any) -> str:
    """url_for that carries the current launch token (for links inside the tool)."""
    launch = g.get("launch")
    if launch is not None:
        values.setdefault(TOKEN_PARAM, launch.token)
    return url_for(endpoint, **values)


def learner_reach(launch: LaunchContext, learner_column: Any) -> Any:
    """A condition on a learner id column: the learners the launch's mentor may see.

    The rule is mentoring's (mentoring/scope.py registers it on the app at start-up); this is
    how the floors below mentoring (a retake, a score's page) follow it without importing it.
    An app without mentoring has no caseloads: every learner of the course.
    """
    rule = current_app.extensions.get("learner_reach")
    return true() if rule is None else rule(launch, learner_column)
