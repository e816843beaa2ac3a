"""What the tool tells a platform about itself: URLs, scopes, claims and placements.

One description serves the manual registration page, the Dynamic Registration request and
Canvas's developer-key JSON, so the three never disagree. Every URL is built from TOOL_URL,
which platforms match character for character.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
#: The services the tool asks for: grades (with column management) and the roster.
SCOPES = (
    AGS_SCOPE + "lineitem",
    AGS_SCOPE + "lineitem.readonly",
    AGS_SCOPE + "result.readonly",
    AGS_SCOPE + "score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
#: The id_token claims the tool wants: who the person is, by name and e-mail.
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
#: Where Canvas shows the tool: a course menu entry, and content selection for
#: assignments and links (Deep Linking).
CANVAS_PLACEMENTS = (
    ("course_navigation", RESOURCE_LINK),
    ("assignment_selection", DEEP_LINKING),
    ("link_selection", DEEP_LINKING),
)
#: Canvas shares names but not e-mail with "name_only"; the tool falls back to pseudonyms.
CANVAS_PRIVACY_LEVEL = "name_only"
CANVAS_TOOL_ID = "design-mindset-detector"
#: Substituted by the platform at launch; booking uses the person's time zone when given.
CUSTOM_PARAMETERS = {"timezone": "$Person.address.timezone"}
DESCRIPTION = (
    "A Design Thinking mindset questionnaire: learners see their profile, mentors see "
    "their cohort and plan mentoring sessions."
)
LOGO_PATH = "/static/img/logo.svg"


def tool_urls() -> dict[str, str]:
    """Every URL a platform administrator may need, by name."""
    base = current_app.config["TOOL_URL"]
    return {
        "target_link_uri": base + "/lti/launch",
        "redirect_uri": base + "/lti/launch",
        "login_url": base + "/lti/login",
        "jwks_url": base + "/lti/jwks",
        "deep_link_url": base + "/lti/launch",
        "registration_url": base + "/lti/register",
        "canvas_json_url": base + "/lti/canvas.json",
        "logo_url": base + LOGO_PATH,
        "config_page_url": base + "/lti/config",
    }


def domain() -> str:
    """host[:port] of TOOL_URL: Moodle requires it to equal target_link_uri's."""
    return urlsplit(current_app.config["TOOL_URL"]).netloc.lower()


def tool_name() -> str:
    """The name platforms show for the tool."""
    return current_app.config["TOOL_NAME"]


def messages() -> list[dict]:
    """The LTI messages the tool accepts, with labels and Canvas placements."""
    urls = tool_urls()
    by_type: dict[str, list[str]] = {}
    for placement, message_type in CANVAS_PLACEMENTS:
        by_type.setdefault(message_type, []).append(placement)
    labels = {RESOURCE_LINK: tool_name(), DEEP_LINKING: f"Add {tool_name()}"}
    return [
        {
            "type": message_type,
            "target_link_uri": urls["target_link_uri"],
            "label": labels[message_type],
            "icon_uri": urls["logo_url"],
            "placements": placements,
        }
        for message_type, placements in by_type.items()
    ]


def canvas_configuration() -> dict:
    """The Canvas developer key ("LTI key") JSON, in the shape Canvas documents."""
    urls = tool_urls()
    return {
        "title": tool_name(),
        "description": DESCRIPTION,
        "oidc_initiation_url": urls["login_url"],
        "target_link_uri": urls["target_link_uri"],
        "scopes": list(SCOPES),
        "public_jwk_url": urls["jwks_url"],
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": domain(),
                "tool_id": CANVAS_TOOL_ID,
                "privacy_level": CANVAS_PRIVACY_LEVEL,
                "settings": {
                    "text": tool_name(),
                    "icon_url": urls["logo_url"],
                    "placements": [
                        {
                            "placement": placement,
                            "message_type": message_type,
                            "target_link_uri": urls["target_link_uri"],
                            "text": tool_name(),
                            "icon_url": urls["logo_url"],
                        }
                        for placement, message_type in CANVAS_PLACEMENTS
                    ],
                },
            }
        ],
        "custom_fields": dict(CUSTOM_PARAMETERS),
    }
