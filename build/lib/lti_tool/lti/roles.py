"""LTI role URIs (and the short names Moodle's NRPS and older platforms use) → Role.

- mentor: context Instructor (and sub-roles), TeachingAssistant, ContentDeveloper,
  Administrator; institution or system Administrator / SysAdmin;
- learner: context Learner (and sub-roles);
- observer: context Mentor (Canvas's observer, often a parent) with role_scope_mentor;
- none: Mentor without role_scope_mentor, anything else, no role.
The README's "Who becomes what" table says the same for administrators.

A mentor launch is also of a kind (`mentor_kind`): the course's lead (Instructor, context
Administrator), an assistant (TeachingAssistant, also as Instructor's sub-role, which Canvas
sends beside a plain Instructor; ContentDeveloper), or a site administrator who has no course
mentor role at all. The kind decides what a mentor may see and change (mentoring/scope.py).

An LIS `Mentor` is never a course mentor: it observes named users and may only read what
those users themselves see. Canvas sends observers `Learner/NonCreditLearner` beside
`Mentor` in its LTI 1.1 role table, so that sub-role does not make an observer a learner.
"""

from __future__ import annotations

from collections.abc import Iterable

from lti_tool.identity.models import MentorKind, Role

#: Context roles (membership vocabulary) that make someone a mentor in this tool.
MENTOR_ROLES = frozenset({"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"})
LEARNER_ROLES = frozenset({"Learner"})
#: The LIS context role of someone who observes named users (parents, in Canvas).
OBSERVER_ROLES = frozenset({"Mentor"})
#: Institution or system roles that also count: a site administrator opening the tool.
ADMIN_ROLES = frozenset({"Administrator", "SysAdmin"})
#: The claim naming the users an LIS Mentor observes (their `sub` on the platform).
ROLE_SCOPE_MENTOR = "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor"

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person"
_NON_CREDIT = ("membership/Learner#NonCreditLearner",
               "urn:lti:role:ims/lis/Learner/NonCreditLearner")


def _parts(role: str) -> tuple[str, str, str | None]:
    """Split a role into (vocabulary, principal name, sub-role name or None).

    `.../membership/Instructor#TeachingAssistant` is the sub-role TeachingAssistant of
    Instructor; `.../membership#Learner` is Learner; `Learner` alone is a context role in
    short form; `urn:lti:role:ims/lis/Instructor/TeachingAssistant` is the LTI 1.1 form.
    """
    role = role.strip()
    if role.startswith(_MEMBERSHIP + "/"):
        principal, _, sub = role[len(_MEMBERSHIP) + 1 :].partition("#")
        return "context", principal, sub or None
    for prefix, kind in ((_MEMBERSHIP, "context"), (_INSTITUTION, "institution"),
                         (_SYSTEM, "system")):
        if role.startswith(prefix + "#"):
            return kind, role[len(prefix) + 1 :], None
    if role.startswith("urn:lti:role:ims/lis/"):
        principal, _, sub = role[len("urn:lti:role:ims/lis/"):].partition("/")
        return "context", principal, sub or None
    if role.startswith(("urn:lti:instrole:ims/lis/", "urn:lti:sysrole:ims/lis/")):
        return "institution", role.rsplit("/", 1)[-1], None
    if "/" not in role and "#" not in role:
        return "context", role, None
    return "unknown", role, None


def _principal(role: str) -> tuple[str, str]:
    """(vocabulary, principal name): sub-roles count as their parent."""
    kind, principal, _ = _parts(role)
    return kind, principal


def observed_users(claims: dict) -> tuple[str, ...]:
    """The user ids a launch's role_scope_mentor claim names (strings only, as sent)."""
    scope = claims.get(ROLE_SCOPE_MENTOR)
    if not isinstance(scope, list):
        return ()
    return tuple(user for user in scope if isinstance(user, str) and user)


def role_for(roles: Iterable[str], observes: Iterable[str] = ()) -> Role:
    """The tool role for a launch's roles (see the table above).

    Mentor roles win over learner, learner over observer. `observes` is the launch's
    role_scope_mentor: an LIS Mentor who observes nobody gets no role at all.
    """
    learner = observer = False
    non_credit = False
    for raw in roles or ():
        if not isinstance(raw, str):
            continue
        kind, name = _principal(raw)
        if kind == "context" and name in MENTOR_ROLES:
            return Role.MENTOR
        if kind in ("institution", "system") and name in ADMIN_ROLES:
            return Role.MENTOR
        if kind == "context" and name in OBSERVER_ROLES:
            observer = True
        elif kind == "context" and name in LEARNER_ROLES:
            if raw.strip().endswith(_NON_CREDIT):
                non_credit = True
            else:
                learner = True
    if learner or (non_credit and not observer):
        return Role.LEARNER
    if observer and any(observes):
        return Role.OBSERVER
    return Role.NONE


#: Context roles of a course's lead mentor; TeachingAssistant (as principal or sub-role) and
#: ContentDeveloper make an assistant.
LEAD_ROLES = frozenset({"Instructor", "Administrator"})
ASSISTANT_ROLES = frozenset({"TeachingAssistant", "ContentDeveloper"})


def mentor_kind(roles: Iterable[str]) -> MentorKind | None:
    """Which kind of mentor these roles make (None when they make no mentor).

    A teaching assistant is an assistant even beside a plain Instructor: Canvas sends a TA
    both `membership#Instructor` and `membership/Instructor#TeachingAssistant`, and the
    narrower role is the one that was given. Institution or system administrators without a
    course mentor role are site administrators.
    """
    context: set[str] = set()
    admin = False
    for raw in roles or ():
        if not isinstance(raw, str):
            continue
        kind, principal, sub = _parts(raw)
        if kind == "context" and principal in MENTOR_ROLES:
            context.add(sub if sub in ASSISTANT_ROLES else principal)
        elif kind in ("institution", "system") and principal in ADMIN_ROLES:
            admin = True
    if "TeachingAssistant" in context:
        return MentorKind.ASSISTANT
    if context & LEAD_ROLES:
        return MentorKind.LEAD
    if context:
        return MentorKind.ASSISTANT
    return MentorKind.SITE_ADMIN if admin else None
