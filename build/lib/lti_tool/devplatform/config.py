"""Settings of the development platform: defaults, derived URLs and the runtime switches."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_COURSE = {"id": "2", "label": "DMD101", "title": "Design Mindset DMD101"}
DEFAULT_ACTIVITY_TITLE = "Design Mindset questionnaire"

#: The LMSs the platform can play: Moodle 4.5 (observed) and Canvas cloud (its published docs).
PROFILES = ("moodle", "canvas")
#: Canvas's privacy levels for a developer key: what a launch says about the person.
CANVAS_PRIVACY_LEVELS = ("anonymous", "name_only", "email_only", "public")
#: Languages the console offers for launch_presentation.locale.
LAUNCH_LOCALES = ("en", "pl")
#: Roles the console can give a launch instead of the enrolment's (empty: the enrolment's).
LAUNCH_ROLES = ("", "Learner", "Instructor", "Mentor", "TeachingAssistant", "ContentDeveloper")

#: Values accepted by the ``ags_failure`` switch; None means "answer normally".
AGS_FAILURES = (None, "500", "hang", "401_once", "422")
#: Moodle's AGS modes: "full" is "grade sync and column management", "grade_sync" is
#: "use this service for grade sync only" (no lineitem write scope), "off" hides AGS.
AGS_MODES = ("full", "grade_sync", "off")


class ProductionRefused(RuntimeError):
    """The development platform must never run in a production configuration."""


def refuse_production() -> None:
    """Raise ProductionRefused when LTI_TOOL_ENV says production."""
    if os.environ.get("LTI_TOOL_ENV", "").strip().lower() == "production":
        raise ProductionRefused(
            "LTI_TOOL_ENV is 'production': the development platform forges launches for any "
            "user and must never run next to a production tool."
        )


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def tool_settings_from_url(tool_url: str) -> dict:
    """The TOOL settings for a tool served at tool_url with the project's standard routes."""
    base = tool_url.rstrip("/")
    launch = f"{base}/lti/launch"
    return {
        "login_url": f"{base}/lti/login",
        "redirect_uris": [launch],
        "target_link_uri": launch,
        "jwks_url": f"{base}/lti/jwks",
    }


def default_switches(profile: str = "moodle") -> dict:
    """The runtime switches (``DevPlatform.settings``) as a fresh platform starts."""
    return {
        "profile": profile,
        # Canvas: the developer key's privacy level (the tool's canvas.json asks name_only).
        "canvas_privacy": "name_only",
        # What the next launches carry, whoever launches (the console's launch options).
        "launch_locale": "en",
        "launch_role": "",
        "launch_anonymous": False,
        "nrps_enabled": True,
        "share_name": True,
        "share_email": True,
        "ags_mode": "full",
        "ags_failure": None,
        "ags_hang_seconds": 30.0,
        # Canvas-like: offer LTI Platform Storage (lti_storage_target) to the tool. Off is
        # Moodle 4.5, which sends no lti_storage_target and answers no storage messages.
        "platform_storage": True,
    }


@dataclass(frozen=True)
class ToolRegistration:
    """What the platform knows about the one registered tool (Moodle's "tool type 1")."""

    client_id: str
    deployment_id: str
    login_url: str
    redirect_uris: tuple[str, ...]
    target_link_uri: str
    jwks_url: str
    deep_link_url: str

    @property
    def origin(self) -> str:
        """scheme://host[:port] of the tool's launch URL."""
        return origin_of(self.target_link_uri)


@dataclass(frozen=True)
class PlatformConfig:
    """The platform's fixed configuration, read once from the settings dict."""

    issuer: str
    data_dir: Path
    learners: int
    tool: ToolRegistration
    courses: tuple[dict, ...]
    secret_key: str | None = None
    profile: str = "moodle"
    #: Canvas's developer key id and the deployment of the app installed in the course.
    canvas_client_id: str = "10000000000001"
    canvas_deployment_id: str = "1:8865aa05b4b79b64a91a86042e43af5ea8ae79eb"

    @classmethod
    def from_settings(cls, settings: dict) -> PlatformConfig:
        """Validate the settings dict given to create_platform_app and fill in defaults."""
        missing = [key for key in ("ISSUER", "DATA_DIR", "TOOL") if not settings.get(key)]
        if missing:
            raise ValueError(f"devplatform settings lack {', '.join(missing)}")
        issuer = str(settings["ISSUER"])
        if issuer.endswith("/") or not issuer.startswith(("http://", "https://")):
            raise ValueError(f"ISSUER must be an http(s) URL without a trailing slash: {issuer!r}")
        tool = dict(settings["TOOL"])
        for key in ("login_url", "redirect_uris", "target_link_uri", "jwks_url"):
            if not tool.get(key):
                raise ValueError(f"devplatform TOOL settings lack {key}")
        if isinstance(tool["redirect_uris"], str):
            raise ValueError("TOOL redirect_uris must be a list of URLs")
        registration = ToolRegistration(
            client_id=str(tool.get("client_id", "dmd-devplatform")),
            deployment_id=str(tool.get("deployment_id", "1")),
            login_url=tool["login_url"],
            redirect_uris=tuple(tool["redirect_uris"]),
            target_link_uri=tool["target_link_uri"],
            jwks_url=tool["jwks_url"],
            deep_link_url=tool.get("deep_link_url") or tool["target_link_uri"],
        )
        learners = int(settings.get("LEARNERS", 30))
        if learners < 0:
            raise ValueError("LEARNERS must be zero or more")
        courses = tuple(dict(course) for course in (settings.get("COURSES") or [DEFAULT_COURSE]))
        ids = [str(course.get("id", "")) for course in courses]
        if "" in ids or len(set(ids)) != len(ids):
            raise ValueError("every course in COURSES needs its own id")
        profile = str(settings.get("PROFILE") or "moodle")
        if profile not in PROFILES:
            raise ValueError(f"PROFILE must be one of {', '.join(PROFILES)}")
        canvas = {key: str(settings[setting]) for key, setting in (
            ("canvas_client_id", "CANVAS_CLIENT_ID"),
            ("canvas_deployment_id", "CANVAS_DEPLOYMENT_ID"),
        ) if settings.get(setting)}
        return cls(
            issuer=issuer,
            data_dir=Path(settings["DATA_DIR"]),
            learners=learners,
            tool=registration,
            courses=courses,
            secret_key=settings.get("SECRET_KEY"),
            profile=profile,
            **canvas,
        )
