"""The Deep Linking response: the activity a mentor chose, signed with the tool's key.

pylti1p3 builds and signs the LtiDeepLinkingResponse (iss = our client id, aud = the
platform, nonce, deployment id, the platform's `data` echoed); the tool's page posts it as
form field `JWT` to the platform's `deep_link_return_url`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Deployment, Platform
from lti_tool.lti import keys, tool_config
from lti_tool.lti.session import LaunchContext

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
RESOURCE_LINK_TYPE = "ltiResourceLink"


class DeepLinkingError(Exception):
    """No Deep Linking response can be made for this launch; the message says why."""


@dataclass(frozen=True)
class ActivityItem:
    """An activity (ltiResourceLink) to add, graded out of `score_maximum`."""

    title: str
    score_maximum: float
    label: str
    custom: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeepLinkingResponse:
    """Where to post the signed response, and the response itself."""

    return_url: str
    jwt: str


def request_settings(launch: LaunchContext) -> dict[str, Any]:
    """The launch's deep_linking_settings claim, when it can take an activity."""
    if launch.message_type != DEEP_LINKING_REQUEST:
        raise DeepLinkingError(_l("this page opens from the LMS when an activity is being added"))
    settings = launch.claims.get(DL_SETTINGS)
    if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
        raise DeepLinkingError(_l("the platform's request has no deep_link_return_url"))
    accepted = settings.get("accept_types") or []
    if RESOURCE_LINK_TYPE not in accepted:
        raise DeepLinkingError(_l(
            "the platform accepts only %(types)s here, not an activity (ltiResourceLink)",
            types=", ".join(map(str, accepted)) or _l("nothing"),
        ))
    return settings


def respond(launch: LaunchContext, item: ActivityItem) -> DeepLinkingResponse:
    """The signed LtiDeepLinkingResponse carrying one activity with its line item."""
    settings = request_settings(launch)
    platform = db.session.get(Platform, launch.platform_id)
    deployment = db.session.get(Deployment, launch.deployment_id)
    if platform is None or deployment is None:
        raise DeepLinkingError(_l("the platform of this launch is no longer registered"))
    try:
        registration = tool_config.registration_for(platform)
    except keys.NoSigningKey as exc:
        raise DeepLinkingError(str(exc)) from exc
    resource = (
        DeepLinkResource()
        .set_url(current_app.config["TOOL_URL"] + "/lti/launch")
        .set_title(item.title)
        .set_custom_params(dict(item.custom))
    )
    # A platform may say it takes no line item here (Canvas's link selection does).
    if settings.get("accept_lineitem", True) is not False:
        resource.set_lineitem(LineItem().set_score_maximum(item.score_maximum).set_label(item.label))
    token = DeepLink(registration, deployment.deployment_id, settings).get_response_jwt([resource])
    return DeepLinkingResponse(settings["deep_link_return_url"], token)
