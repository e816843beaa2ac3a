"""The post-launch session: a server-side LaunchSession found by a signed token.

Inside an LMS iframe the tool's cookies are third-party and may be blocked or
partitioned, so pages after the launch never depend on them: the token travels in links
(`?lt=`), forms (a hidden `lt` field) and fetch calls (the `X-Launch-Token` header). A
POST must carry it in the body or header, never only in the URL; since a third party
cannot know it, it also protects forms against CSRF.

There are two kinds of token, both the session id signed with the time of signing:
- a *link token* goes in URLs (links, the landing redirect, GET forms), where it can end up
  in a log, a browser history or a copied address; it works for URL_TOKEN_MINUTES, wherever
  it is then presented;
- a *page token* goes only in page bodies (POST forms, the `launch-token` meta tag that
  fetch calls read) and works for as long as the session (LAUNCH_SESSION_MINUTES). In a
  URL it is refused.
Every page is rendered with tokens signed now, and the page renews its link token
(static/js/launch_token.js posts the page token, in the header, to /lti/session/renew)
and rewrites its links, so a page left open keeps working while an address copied out of
it soon stops, and cannot be renewed by whoever copied it.
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
from sqlalchemy import insert, true
from sqlalchemy.orm import joinedload

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
    #: The token for URLs (links, GET forms); `token` is the page token for POST forms and
    #: headers.
    link_token: str = ""

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


#: Salts of the two kinds of token: a signature of one kind is no signature of the other.
PAGE_SALT = "launch-session"
LINK_SALT = "launch-link"


def _serializer(salt: str = PAGE_SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign_link_token(session_id: str) -> str:
    """A token for URLs of this launch session, signed now (short-lived)."""
    return _serializer(LINK_SALT).dumps(session_id)


def sign_page_token(session_id: str) -> str:
    """A token for the bodies of this session's pages and their fetch calls, signed now."""
    return _serializer(PAGE_SALT).dumps(session_id)


def start_session(*args: Any, **kwargs: Any) -> str:
    """A new session (new_session's arguments), written to the database; its link token,
    for the landing page's address."""
    row = new_session(*args, **kwargs)
    write_session(row)
    return sign_link_token(row.id)


def new_session(
    person: Person,
    deployment_id: int,
    course: Course | None,
    link: ResourceLink | None,
    role: Role,
    message_type: str,
    claims: dict[str, Any],
) -> LaunchSession:
    """A LaunchSession for a validated launch, not yet written (write_session writes it).

    The row stays outside the ORM session (see write_session), with its person and course
    attached, so `context_of(row)` reads it without asking the database again."""
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
    now = utcnow()
    row = LaunchSession(
        id=secrets.token_urlsafe(32),
        person_id=person.id,
        person=person,
        deployment_id=deployment_id,
        course_id=course.id if course else None,
        course=course,
        resource_link_id=link.id if link else None,
        role=role,
        mentor_kind=_kind(role, claims),
        message_type=message_type,
        locale=(presentation or {}).get("locale") if isinstance(presentation, dict) else None,
        claims=kept,
        created_dt=now,
        expires_dt=now + timedelta(minutes=minutes),
    )
    return row


_SESSION_COLUMNS = tuple(column.key for column in LaunchSession.__table__.columns)
_INSERT_SESSION = insert(LaunchSession.__table__)


def write_session(row: LaunchSession) -> None:
    """INSERT a row of new_session in the request's transaction, as one Core statement.

    Every launch writes one; through the ORM's unit of work (cascades to the person and
    course, dependency sorting, identity map) it cost more than the statement itself. The
    row is written once and never changed, so nothing needs the ORM's bookkeeping. Through
    the session's connection, not Session.execute: it is not a write the reference
    statistics' cache must notice (questionnaire/reference.py)."""
    db.session.connection().execute(
        _INSERT_SESSION, {key: getattr(row, key) for key in _SESSION_COLUMNS})


def _kind(role: Role, claims: dict[str, Any]) -> MentorKind | None:
    """The mentor kind of a launch. A real launch always carries its roles; a session made
    without them (tests, scripts) gets the narrowest kind that still mentors."""
    if role is not Role.MENTOR:
        return None
    return mentor_kind(claims.get(ROLES_CLAIM) or ()) or MentorKind.ASSISTANT


class SessionProblem(Exception):
    """The request's launch token is missing, forged or expired."""


class LinkExpired(SessionProblem):
    """A token in a URL older than URL_TOKEN_MINUTES: the address was copied, bookmarked or
    left open without its page renewing it."""


def _token_from_request() -> tuple[str | None, bool]:
    """The request's token and whether it came in the URL (the header wins over both)."""
    header = request.headers.get(TOKEN_HEADER)
    if header:
        return header, False
    if request.method in ("GET", "HEAD"):
        return request.args.get(TOKEN_PARAM), True
    return request.form.get(TOKEN_PARAM), False


def load_context(token: str | None, *, in_url: bool = False,
                 page_token_only: bool = False) -> LaunchContext:
    """The LaunchContext behind a token, or SessionProblem.

    In a URL only a link token younger than URL_TOKEN_MINUTES counts (LinkExpired for an
    older one, or for a page token that found its way into an address). In a form or header
    a page token counts for the session's life, and a link token as long as in a URL, unless
    `page_token_only`. The context carries fresh tokens of both kinds for the page.
    """
    if not token:
        raise SessionProblem("no launch token")
    session_seconds = current_app.config["LAUNCH_SESSION_MINUTES"] * 60
    url_seconds = min(current_app.config["URL_TOKEN_MINUTES"] * 60, session_seconds)
    link = _read(LINK_SALT, token, url_seconds)
    page = _read(PAGE_SALT, token, session_seconds)
    if page is EXPIRED:
        raise SessionProblem("launch token expired")
    if in_url and (link is EXPIRED or page is not FORGED):
        raise LinkExpired(f"launch token in the URL (link token {link}, page token {page}); "
                          f"links work for {url_seconds // 60} minutes")
    if not in_url and page is not FORGED:
        session_id = page
    elif page_token_only:
        raise SessionProblem("not a page token")
    elif link is EXPIRED:
        raise LinkExpired(f"link token older than {url_seconds // 60} minutes")
    elif link is FORGED:
        raise SessionProblem("launch token forged or damaged")
    else:
        session_id = link
    # The person and course come in the same statement: every page needs both.
    row = db.session.get(LaunchSession, session_id, options=_WITH_PERSON_AND_COURSE)
    if row is None or row.expires_dt <= utcnow():
        raise SessionProblem("launch session ended")
    return context_of(row)


_WITH_PERSON_AND_COURSE = (joinedload(LaunchSession.person), joinedload(LaunchSession.course))


def context_of(row: LaunchSession) -> LaunchContext:
    """The LaunchContext of a session row, with fresh tokens of both kinds."""
    return LaunchContext(
        session_id=row.id,
        token=sign_page_token(row.id),
        link_token=sign_link_token(row.id),
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


class _Unread(str):
    """Why a token does not sign a session id (compared by identity)."""


EXPIRED = _Unread("expired")
FORGED = _Unread("forged")


def _read(salt: str, token: str, max_age: int) -> str:
    """The session id a token of this kind signs, or EXPIRED or FORGED."""
    try:
        return _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        return EXPIRED
    except BadSignature:
        return FORGED


def launch_required(view: Callable) -> Callable:
    """Let the view run only with a valid launch token; `g.launch` is its context."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token, in_url = _token_from_request()
        try:
            g.launch = load_context(token, in_url=in_url)
        except SessionProblem as exc:
            log.info("launch session refused on %s: %s", request.path, exc)
            wants_json = request.accept_mimetypes.best == "application/json" or request.is_json
            if wants_json:
                return {"error": "session", "message": str(exc)}, 401
            template = ("lti/link_expired.html" if isinstance(exc, LinkExpired)
                        else "lti/session_expired.html")
            return render_template(template, reason=str(exc)), 401
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
        values.setdefault(TOKEN_PARAM, launch.link_token or launch.token)
    return url_for(endpoint, **values)


def launch_url_pattern(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """id → launch_url_for(endpoint, key=id, **values), for a page linking many rows: the URL
    is built once, then each row's id is put where the rule placed it."""
    marks = (987654321, 123456789)
    built = [launch_url_for(endpoint, **values, **{key: mark}) for mark in marks]
    paths = [url.partition("?")[0] for url in built]
    query = built[0].partition("?")[1:]
    head, found, tail = paths[0].partition(str(marks[0]))
    if not found or paths[1] != f"{head}{marks[1]}{tail}" or str(marks[0]) in tail:
        # A rule that does not place the value as it is: build each URL.
        return lambda value: launch_url_for(endpoint, **values, **{key: value})
    rest = "".join((tail, *query))
    return lambda value: f"{head}{int(value)}{rest}"


def learner_reach(launch: LaunchContext, learner_column: Any) -> Any:
    """A condition on a learner id column: the learners the launch's mentor may see.

    The rule is mentoring's (mentoring/scope.py registers it on the app at start-up); this is
    how the floors below mentoring (a retake, a score's page) follow it without importing it.
    An app without mentoring has no caseloads: every learner of the course.
    """
    rule = current_app.extensions.get("learner_reach")
    return true() if rule is None else rule(launch, learner_column)
