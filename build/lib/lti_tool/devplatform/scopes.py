"""LTI Advantage service scopes and which ones the platform's switches permit."""

from __future__ import annotations

AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
AGS_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
AGS_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_MEMBERSHIP = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def ags_scopes(switches: dict) -> list[str]:
    """The AGS scopes Moodle offers in its mode: full, grade sync only, or none."""
    mode = switches.get("ags_mode", "full")
    if mode == "full":
        return [AGS_LINEITEM, AGS_LINEITEM_READONLY, AGS_RESULT_READONLY, AGS_SCORE]
    if mode == "grade_sync":
        return [AGS_LINEITEM_READONLY, AGS_RESULT_READONLY, AGS_SCORE]
    return []


def permitted_scopes(switches: dict) -> list[str]:
    """Every scope a token may grant right now."""
    nrps = [NRPS_MEMBERSHIP] if switches.get("nrps_enabled", True) else []
    return ags_scopes(switches) + nrps
