"""An activity's grade mode: chosen by a mentor, or named by the platform when the activity was
added through Deep Linking (a custom parameter that comes back with every launch of it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.gradebook.models import GradeMode, GradeSettings
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.lti.models import LaunchSession
from lti_tool.lti.provisioning import get_or_create

#: The custom parameter a Deep Linking response gives the activity, naming its grade mode.
GRADE_MODE_PARAM = "dmd_grade_mode"
CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"
#: The maximum of line items the tool creates, and the scale assumed while none is known.
DEFAULT_MAXIMUM = 100.0
#: The largest maximum a mentor may choose; LMS gradebooks handle more, people rarely mean it.
LARGEST_MAXIMUM = 1000.0
DEFAULT_TITLE = _l("Design Mindset questionnaire")


class SettingsError(Exception):
    """A grade setting that cannot be used; the message says why, for the mentor."""


def mode_from_custom(custom: Mapping[str, Any] | None) -> GradeMode:
    """The grade mode named by the launch's custom parameters, else completion."""
    value = (custom or {}).get(GRADE_MODE_PARAM)
    try:
        return GradeMode(str(value).strip().lower())
    except ValueError:
        return GradeMode.COMPLETION


def launch_custom(claims: Mapping[str, Any] | None) -> dict[str, Any]:
    """The custom parameters kept from a launch's claims."""
    custom = (claims or {}).get(CUSTOM_CLAIM)
    return custom if isinstance(custom, dict) else {}


def latest_launch_custom(person_id: int, resource_link_id: int) -> dict[str, Any]:
    """The custom parameters of the person's newest launch of the activity."""
    claims = db.session.scalar(
        select(LaunchSession.claims)
        .where(
            LaunchSession.person_id == person_id,
            LaunchSession.resource_link_id == resource_link_id,
        )
        .order_by(LaunchSession.created_dt.desc())
        .limit(1)
    )
    return launch_custom(claims)


def grade_settings(resource_link_id: int, custom: Mapping[str, Any] | None = None) -> GradeSettings:
    """The activity's settings; made on first use with the mode its custom parameter names."""
    return get_or_create(
        GradeSettings,
        {"resource_link_id": resource_link_id},
        {"grade_mode": mode_from_custom(custom)},
    )


def parse_mode(raw: Any) -> GradeMode:
    """A grade mode from a form, or SettingsError."""
    try:
        return GradeMode(str(raw or ""))
    except ValueError:
        raise SettingsError(_l("choose a grade mode: completion or score")) from None


@dataclass(frozen=True)
class ActivityChoice:
    """What a mentor picked when adding the activity through Deep Linking."""

    title: str
    grade_mode: GradeMode
    score_maximum: float

    @property
    def custom(self) -> dict[str, str]:
        """The custom parameters the activity's launches will carry."""
        return {GRADE_MODE_PARAM: self.grade_mode.value}


def choose_activity(title: Any, mode: Any, maximum: Any) -> ActivityChoice:
    """Check a Deep Linking choice: a title, a grade mode, a maximum score above 0."""
    title = " ".join(str(title or "").split())
    if not title:
        raise SettingsError(_l("the activity needs a title"))
    if len(title) > 255:
        raise SettingsError(_l("the title may have at most 255 characters"))
    try:
        points = float(str(maximum).strip())
    except ValueError:
        points = math.nan
    if not math.isfinite(points) or not 0 < points <= LARGEST_MAXIMUM:
        raise SettingsError(_l(
            "the maximum score must be a number above 0 and at most %(largest)s",
            largest=f"{LARGEST_MAXIMUM:g}",
        ))
    return ActivityChoice(title, parse_mode(mode), points)
