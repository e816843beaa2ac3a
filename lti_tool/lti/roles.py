"""LTI role URIs (and the short names Moodle's NRPS and older platforms use) → Role."""

from __future__ import annotations

from collections.abc import Iterable

from lti_tool.identity.models import Role

#: Context roles (membership vocabulary) that make someone a mentor in this tool.
MENTOR_ROLES = frozenset(
    {"Instructor", "TeachingAssistant", "ContentDeveloper", "Mentor", "Administrator"}
)
LEARNER_ROLES = frozenset({"Learner"})
#: Institution or system roles that also count: a site administrator opening the tool.
ADMIN_ROLES = frozenset({"Administrator", "SysAdmin"})

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person"


def _principal(role: str) -> tuple[str, str]:
    """Split a role into (vocabulary, principal name); sub-roles count as their parent.

    `.../membership/Instructor#TeachingAssistant` is a sub-role of Instructor, so its
    principal is Instructor; `.../membership#Learner` is Learner; `Learner` alone is a
    context role in short form; `urn:lti:role:ims/lis/Instructor` is the LTI 1.1 form.
    """
    role = role.strip()
    if role.startswith(_MEMBERSHIP + "/"):
        return "context", role[len(_MEMBERSHIP) + 1 :].split("#", 1)[0]
    for prefix, kind in ((_MEMBERSHIP, "context"), (_INSTITUTION, "institution"),
                         (_SYSTEM, "system")):
        if role.startswith(prefix + "#"):
            return kind, role[len(prefix) + 1 :]
    if role.startswith("urn:lti:role:ims/lis/"):
        return "context", role.rsplit("/", 1)[-1]
    if role.startswith(("urn:lti:instrole:ims/lis/", "urn:lti:sysrole:ims/lis/")):
        return "institution", role.rsplit("/", 1)[-1]
    if "/" not in role and "#" not in role:
        return "context", role
    return "unknown", role


def role_for(roles: Iterable[str]) -> Role:
    """The tool role for a launch's roles: mentor wins over learner; otherwise none."""
    found = Role.NONE
    for raw in roles or ():
        if not isinstance(raw, str):
            continue
        kind, name = _principal(raw)
        if kind == "context" and name in MENTOR_ROLES:
            return Role.MENTOR
        if kind in ("institution", "system") and name in ADMIN_ROLES:
            return Role.MENTOR
        if kind == "context" and name in LEARNER_ROLES:
            found = Role.LEARNER
    return found
