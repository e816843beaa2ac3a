"""DevPlatform: the platform's parts in one object, and the handle tests use to drive it."""

from __future__ import annotations

from .claims import RESOURCE_LINK, build_launch_claims
from .config import PlatformConfig, ToolRegistration, default_switches
from .gradebook import gradebook
from .keys import PlatformKey
from .launches import start_launch
from .registration import latest_registered_tool, registration_start_url
from .store import Store
from .tokens import issue_access_token
from .toolkeys import ToolKeySet


class DevPlatform:
    """A fake Moodle 4.5 site with one registered tool; ``settings`` holds runtime switches.

    The tool is the configured one until a Dynamic Registration replaces it (use_tool).
    """

    def __init__(self, config: PlatformConfig, store: Store, key: PlatformKey):
        self.config = config
        self.store = store
        self.key = key
        #: Keys replaced by rotate_key(), still published so that tokens in flight verify.
        self.previous_keys: list[PlatformKey] = []
        #: Switches flipped at runtime by tests and by the /settings page.
        self.settings: dict = default_switches()
        self.issuer = config.issuer
        self.auth_login_url = self.url("/mod/lti/auth.php")
        self.auth_token_url = self.url("/mod/lti/token.php")
        self.key_set_url = self.url("/mod/lti/certs.php")
        self.openid_configuration_url = self.url("/mod/lti/openid-configuration.php")
        self.registration_endpoint = self.url("/mod/lti/openid-registration.php")
        # A tool registered dynamically replaces the configured one, also after a restart.
        self.use_tool(latest_registered_tool(store) or config.tool)

    def use_tool(self, tool: ToolRegistration) -> None:
        """Launch this tool from now on (its client id, deployment id, URLs and keys)."""
        self.tool = tool
        self.tool_keys = ToolKeySet(tool.jwks_url)
        self.client_id = tool.client_id
        self.deployment_id = tool.deployment_id

    # URLs, all derived from the issuer.

    def url(self, path: str) -> str:
        """The absolute URL of a path on this platform."""
        return f"{self.issuer}{path}"

    def lineitems_url(self, course_id: str) -> str:
        """The AGS line item container of a course."""
        return self.url(f"/mod/lti/services.php/{course_id}/lineitems?type_id={self.deployment_id}")

    def lineitem_url(self, course_id: str, item_id: int | str) -> str:
        """One line item; note the query string at the end."""
        return self.service_url(course_id, item_id, "")

    def service_url(self, course_id: str, item_id: int | str, tail: str) -> str:
        """A line item's URL, or its scores/results URL when tail names them."""
        path = f"/mod/lti/services.php/{course_id}/lineitems/{item_id}/lineitem"
        if tail:
            path += f"/{tail}"
        return self.url(f"{path}?type_id={self.deployment_id}")

    def memberships_url(self, course_id: str) -> str:
        """The NRPS membership container of a course."""
        return self.url(
            f"/mod/lti/services.php/CourseSection/{course_id}/bindings/"
            f"{self.deployment_id}/memberships"
        )

    # The test-facing interface.

    @staticmethod
    def default_settings() -> dict:
        """The switches as a fresh platform has them (tests reset ``settings`` with this)."""
        return default_switches()

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
        resource_link_id: str = "1",
        message_type: str = RESOURCE_LINK,
        nonce: str,
        target_link_uri: str | None = None,
    ) -> dict:
        """The id_token claims exactly as auth.php would issue them."""
        return build_launch_claims(
            self, user_id, course_id=course_id, resource_link_id=resource_link_id,
            message_type=message_type, nonce=nonce, target_link_uri=target_link_uri,
        )

    def initiate_login_form(
        self,
        user_id: str,
        *,
        course_id: str = "2",
        resource_link_id: str = "1",
        message_type: str = RESOURCE_LINK,
    ) -> tuple[str, dict]:
        """A fresh single-use launch: (tool login URL, fields the login page would post)."""
        return start_launch(
            self, user_id, course_id=course_id, resource_link_id=resource_link_id,
            message_type=message_type,
        )

    def users(self, course_id: str = "2") -> list[dict]:
        """A course's users: id, username, given_name, family_name, name, email, role."""
        return self.store.members(course_id)

    def gradebook(self, course_id: str = "2") -> list[dict]:
        """Each line item with its URL, current scores (one per user) and full score history."""
        items = gradebook(self.store, course_id)
        for item in items:
            item["url"] = self.lineitem_url(course_id, item["id"])
        return items

    def issue_access_token(self, scopes: list[str]) -> str:
        """A service token as token.php would grant (tests use it to call services directly)."""
        return issue_access_token(self.store, scopes)
