"""DevPlatform: the platform's parts in one object, and the handle tests use to drive it."""

from __future__ import annotations

import dataclasses

from .canvas import CANVAS_ISSUER, CanvasHosts, build_canvas_claims
from .claims import RESOURCE_LINK, build_launch_claims, launch_subject
from .config import PROFILES, PlatformConfig, ToolRegistration, default_switches
from .gradebook import gradebook, score_posts
from .keys import PlatformKey
from .launches import start_launch
from .registration import latest_registered_tool, registration_start_url
from .store import Store
from .tokens import issue_access_token
from .toolkeys import ToolKeySet


class DevPlatform:
    """A fake Moodle 4.5 site, or a Canvas cloud school (``settings["profile"]``), with one
    registered tool per profile; ``settings`` holds the runtime switches.

    Each profile's tool is the configured one until a Dynamic Registration replaces it.
    """

    def __init__(self, config: PlatformConfig, store: Store, key: PlatformKey):
        self.config = config
        self.store = store
        self.key = key
        #: Keys replaced by rotate_key(), still published so that tokens in flight verify.
        self.previous_keys: list[PlatformKey] = []
        #: Switches flipped at runtime by tests and by the /settings page.
        self.settings: dict = default_switches(config.profile)
        #: Where this server answers; Moodle's issuer and every Moodle URL start with it.
        self.base_url = config.issuer
        self.canvas_hosts = CanvasHosts(self.base_url)
        self._tool_keys: dict[str, ToolKeySet] = {}
        self.tools: dict[str, ToolRegistration] = {}
        for profile in PROFILES:
            # A tool registered dynamically replaces the configured one, also after a restart.
            self.tools[profile] = (latest_registered_tool(store, profile)
                                   or self._configured_tool(profile))

    def _configured_tool(self, profile: str) -> ToolRegistration:
        if profile == "canvas":
            return dataclasses.replace(self.config.tool, client_id=self.config.canvas_client_id,
                                       deployment_id=self.config.canvas_deployment_id)
        return self.config.tool

    @property
    def profile(self) -> str:
        """"moodle" or "canvas": which LMS the platform plays right now."""
        return self.settings.get("profile", "moodle")

    @property
    def is_canvas(self) -> bool:
        """True in the Canvas profile."""
        return self.profile == "canvas"

    @property
    def tool(self) -> ToolRegistration:
        """The tool this profile launches."""
        return self.tools[self.profile]

    @property
    def tool_keys(self) -> ToolKeySet:
        """The tool's public keys (fetched from its JWKS URL, cached per URL)."""
        url = self.tool.jwks_url
        if url not in self._tool_keys:
            self._tool_keys[url] = ToolKeySet(url)
        return self._tool_keys[url]

    @property
    def client_id(self) -> str:
        """The tool's client id in this profile."""
        return self.tool.client_id

    @property
    def deployment_id(self) -> str:
        """The tool's deployment id in this profile."""
        return self.tool.deployment_id

    def use_tool(self, tool: ToolRegistration, profile: str | None = None) -> None:
        """Launch this tool from now on (its client id, deployment id, URLs and keys)."""
        self.tools[profile or self.profile] = tool

    # URLs: Moodle's under the server's own URL, Canvas's on the school's and Canvas's hosts.

    @property
    def issuer(self) -> str:
        """The `iss` of launches: Moodle's site URL, or Canvas cloud's one issuer."""
        return CANVAS_ISSUER if self.is_canvas else self.base_url

    @property
    def auth_login_url(self) -> str:
        """The OIDC authorization endpoint."""
        if self.is_canvas:
            return self.canvas_hosts.sso + "/api/lti/authorize_redirect"
        return self.url("/mod/lti/auth.php")

    @property
    def auth_token_url(self) -> str:
        """The OAuth 2 token endpoint."""
        if self.is_canvas:
            return self.canvas_hosts.sso + "/login/oauth2/token"
        return self.url("/mod/lti/token.php")

    @property
    def key_set_url(self) -> str:
        """The platform's JWKS."""
        if self.is_canvas:
            return self.canvas_hosts.sso + "/api/lti/security/jwks"
        return self.url("/mod/lti/certs.php")

    @property
    def openid_configuration_url(self) -> str:
        """Where Dynamic Registration reads the platform's OpenID configuration."""
        if self.is_canvas:
            return self.canvas_hosts.school + "/api/lti/security/openid-configuration"
        return self.url("/mod/lti/openid-configuration.php")

    @property
    def registration_endpoint(self) -> str:
        """Where Dynamic Registration posts the tool's client registration."""
        if self.is_canvas:
            return self.canvas_hosts.school + "/api/lti/registrations"
        return self.url("/mod/lti/openid-registration.php")

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server (Moodle's pages)."""
        return f"{self.base_url}{path}"

    def lineitems_url(self, course_id: str) -> str:
        """The AGS line item container of a course."""
        if self.is_canvas:
            return f"{self.canvas_hosts.school}/api/lti/courses/{course_id}/line_items"
        return self.url(f"/mod/lti/services.php/{course_id}/lineitems?type_id={self.deployment_id}")

    def lineitem_url(self, course_id: str, item_id: int | str) -> str:
        """One line item (Moodle's ends in a query string)."""
        return self.service_url(course_id, item_id, "")

    def service_url(self, course_id: str, item_id: int | str, tail: str) -> str:
        """A line item's URL, or its scores/results URL when tail names them."""
        if self.is_canvas:
            url = f"{self.canvas_hosts.school}/api/lti/courses/{course_id}/line_items/{item_id}"
            return f"{url}/{tail}" if tail else url
        path = f"/mod/lti/services.php/{course_id}/lineitems/{item_id}/lineitem"
        if tail:
            path += f"/{tail}"
        return self.url(f"{path}?type_id={self.deployment_id}")

    def memberships_url(self, course_id: str) -> str:
        """The NRPS membership container of a course."""
        if self.is_canvas:
            return f"{self.canvas_hosts.school}/api/lti/courses/{course_id}/names_and_roles"
        return self.url(
            f"/mod/lti/services.php/CourseSection/{course_id}/bindings/"
            f"{self.deployment_id}/memberships"
        )

    # The test-facing interface.

    def default_settings(self) -> dict:
        """The switches as a fresh platform has them (tests reset ``settings`` with this)."""
        return default_switches(self.config.profile)

    def registration(self) -> dict:
        """What the tool needs to register this platform."""
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "deployment_id": self.deployment_id,
            "auth_login_url": self.auth_login_url,
            "auth_token_url": self.auth_token_url,
            "key_set_url": self.key_set_url,
        }

    def jwks(self) -> dict:
        """The platform's public keys: the signing key and any it replaced."""
        return {"keys": [k.public_jwk for k in (self.key, *self.previous_keys)]}

    def rotate_key(self) -> str:
        """Sign with a new key from now on (its kid is returned); the previous one stays
        published, as a platform rotating its keys keeps the old one for a while."""
        self.previous_keys = [self.key]
        self.key = PlatformKey.replace(self.config.data_dir)
        return self.key.kid

    def start_dynamic_registration(self, tool_registration_url: str) -> str:
        """The URL to open for a Dynamic Registration: the tool's registration URL with
        openid_configuration and a fresh single-use registration token."""
        return registration_start_url(self, tool_registration_url)

    def sign_jwt(self, claims: dict, headers: dict | None = None) -> str:
        """RS256 with the platform key; headers (if given) replace the default {"kid": ...}."""
        return self.key.sign(claims, headers)

    def build_launch_claims(
        self,
        user_id: str,
        *,
        course_id: str = "2",
        resource_link_id: str | None = "1",
        message_type: str = RESOURCE_LINK,
        nonce: str,
        target_link_uri: str | None = None,
        placement: str | None = None,
    ) -> dict:
        """The id_token claims exactly as the auth endpoint would issue them."""
        if self.is_canvas:
            course, member, activity = launch_subject(
                self.store, str(user_id), str(course_id), resource_link_id, message_type,
                canvas=True,
            )
            placement = placement or ("assignment" if activity else "course_navigation")
            launch = {"placement": placement, "message_type": message_type,
                      "target_link_uri": target_link_uri or self.tool.target_link_uri}
            return build_canvas_claims(self, launch, member, course, activity, nonce=nonce)
        return build_launch_claims(
            self, user_id, course_id=course_id, resource_link_id=resource_link_id,
            message_type=message_type, nonce=nonce, target_link_uri=target_link_uri,
        )

    def initiate_login_form(
        self,
        user_id: str,
        *,
        course_id: str = "2",
        resource_link_id: str | None = "1",
        message_type: str = RESOURCE_LINK,
        placement: str | None = None,
    ) -> tuple[str, dict]:
        """A fresh single-use launch: (tool login URL, fields the login page would post)."""
        return start_launch(
            self, user_id, course_id=course_id, resource_link_id=resource_link_id,
            message_type=message_type, placement=placement,
        )

    def users(self, course_id: str = "2") -> list[dict]:
        """A course's users: id, username, given_name, family_name, name, email, role
        (observers, role Mentor, in the Canvas profile only)."""
        return self.store.members(course_id, observers=self.is_canvas)

    def sub(self, user_id: str) -> str:
        """The `sub` a user's launches carry in this profile."""
        from .canvas import lti_id

        return lti_id(user_id) if self.is_canvas else str(user_id)

    def gradebook(self, course_id: str = "2") -> list[dict]:
        """Each line item with its URL, current scores (one per user) and full score history."""
        items = gradebook(self.store, course_id)
        for item in items:
            item["url"] = self.lineitem_url(course_id, item["id"])
        return items

    def score_posts(self, course_id: str = "2") -> list[dict]:
        """Every score POST the course's line items received, oldest first, with the status
        answered: repeated sends show here even when the gradebook refused them (409)."""
        return score_posts(self.store, course_id)

    def issue_access_token(self, scopes: list[str]) -> str:
        """A service token as token.php would grant (tests use it to call services directly)."""
        return issue_access_token(self.store, scopes)
