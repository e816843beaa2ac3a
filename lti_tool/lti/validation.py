"""OIDC login and launch validation: pylti1p3, plus the checks the library leaves out.

Every item of the launch checklist in LTI-NOTES.md is enforced here. The library's gaps
closed on top of it: the nonce is single-use and bound to the login's state, the launch's
`target_link_uri` must equal the login's, `azp` must name us when `aud` has several
values, `alg` must be RS256, an unknown `kid` refetches the platform's keys once, and
state lives in storage that every worker shares. Failures raise LaunchError with a plain
message for the person at the screen (often a Moodle admin) and a detail for the log.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import jwt
import requests
from flask import current_app, request
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.message_validators import get_validators

from lti_tool.identity.models import Deployment, Platform
from lti_tool.lti import tool_config
from lti_tool.lti.storage import SharedLaunchDataStorage, SharedSessionService, shared_store

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
SUPPORTED_MESSAGES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
STATE_COOKIE_PREFIX = "dmd-lti-"


class LaunchError(Exception):
    """A login or launch that cannot go on; `message` is safe to show, `detail` is for logs."""

    def __init__(self, message: str, *, status: int = 400, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail or message


class StateCookies(CookieService):
    """The OIDC state cookie, set so that it survives a cross-site LMS iframe.

    `SameSite=None; Secure; Partitioned`: a Lax cookie is not sent on the platform's
    cross-site form POST to the launch URL, and browsers that partition third-party
    cookies (CHIPS) keep a partitioned one. Browsers treat localhost as secure, so this
    also works for the development platform over plain http.
    """

    def __init__(self) -> None:
        self.to_set: dict[str, tuple[str, int | None]] = {}

    def get_cookie(self, name: str) -> str | None:
        """The cookie the browser sent back, if any."""
        return request.cookies.get(STATE_COOKIE_PREFIX + name)

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        """Remember a cookie to set on the response."""
        self.to_set[STATE_COOKIE_PREFIX + name] = (str(value), exp)

    def apply(self, response: Any) -> Any:
        """Set the remembered cookies on a Flask response."""
        for key, (value, max_age) in self.to_set.items():
            response.set_cookie(
                key, value, max_age=max_age, path="/lti/", secure=True, httponly=True,
                samesite="None", partitioned=True,
            )
        return response


def _storage() -> SharedLaunchDataStorage:
    return SharedLaunchDataStorage(shared_store(), current_app.config["LOGIN_STATE_SECONDS"])


def launch_url() -> str:
    """The redirect URI registered with every platform: exact, from TOOL_URL."""
    return current_app.config["TOOL_URL"] + "/lti/launch"


class ToolLogin(FlaskOIDCLogin):
    """Third-party initiated login: find the registration, remember state and nonce."""

    def __init__(self) -> None:
        storage = _storage()
        self.cookies = StateCookies()
        super().__init__(
            FlaskRequest(),
            tool_config.DatabaseToolConf(),
            session_service=SharedSessionService(storage),
            cookie_service=self.cookies,
            launch_data_storage=None,
        )
        self._session_service.set_data_storage(storage)
        self._state_params = {}

    def _generate_nonce(self) -> str:
        # Bind the nonce to this state, so a launch must bring back the pair it was given.
        nonce = super()._generate_nonce()
        self._state_params["nonce"] = nonce
        return nonce

    def validate_oidc_login(self):  # noqa: D401 - pylti1p3 hook
        """Check the login request and find the platform's registration."""
        iss = self._get_request_param("iss")
        login_hint = self._get_request_param("login_hint")
        target = self._get_request_param("target_link_uri")
        client_id = self._get_request_param("client_id")
        missing = [n for n, v in (("iss", iss), ("login_hint", login_hint),
                                  ("target_link_uri", target)) if not v]
        if missing:
            raise LaunchError(
                f"The platform's login request lacks {', '.join(missing)}. Open the tool "
                "from a course page in your LMS rather than by its address."
            )
        tool_url = current_app.config["TOOL_URL"]
        if not (target == tool_url or target.startswith(tool_url + "/")):
            raise LaunchError(
                f"The login asks for {target}, which is not a page of this tool ({tool_url}). "
                "Check the Tool URL in the platform's registration."
            )
        platform = tool_config.find_platform(iss, client_id)
        if platform is None:
            who = f"issuer {iss}" + (f" with client id {client_id}" if client_id else "")
            raise LaunchError(
                f"This tool has no registration for {who}. An administrator can add it "
                "with `flask platforms add` or by Dynamic Registration.",
                detail=f"unknown platform iss={iss!r} client_id={client_id!r}",
            )
        self._state_params.update(
            {"iss": iss, "client_id": platform.client_id, "target_link_uri": target,
             "storage_target": self._get_request_param("lti_storage_target") or None}
        )
        return tool_config.registration_for(platform)


def begin_login() -> tuple[str, StateCookies]:
    """The URL of the platform's OIDC auth endpoint for this login request, and cookies."""
    login = ToolLogin()
    try:
        url = login.get_redirect_object(launch_url()).get_redirect_url()
    except (OIDCException, LtiException) as exc:
        raise LaunchError(f"The login request was refused: {exc}") from exc
    return url, login.cookies


class ToolLaunch(FlaskMessageLaunch):
    """A resource link or deep linking launch, validated item by item."""

    platform: Platform
    deployment: Deployment
    login_params: dict[str, Any]

    def __init__(self) -> None:
        storage = _storage()
        super().__init__(
            FlaskRequest(),
            tool_config.DatabaseToolConf(),
            session_service=SharedSessionService(storage),
            cookie_service=StateCookies(),
        )
        self._session_service.set_data_storage(storage)
        self._client_id: str | None = None

    # -- pylti1p3 hooks -------------------------------------------------------------
    def get_client_id(self) -> str:
        """Our client id as chosen from aud/azp (the library takes aud[0])."""
        assert self._client_id is not None, "audience not checked yet"
        return self._client_id

    def validate(self) -> ToolLaunch:
        """Run every check; stop at the first failure with a LaunchError."""
        self._validated = True
        try:
            self.login_params = self._check_state()
            self._check_format()
            self._check_audience()
            self._check_registration()
            self._check_signature()
            self._check_nonce()
            self._check_deployment()
            self._check_message()
        except LaunchError:
            self._validated = False
            raise
        except LtiException as exc:
            self._validated = False
            raise LaunchError(f"The launch was refused: {exc}") from exc
        return self

    @property
    def claims(self) -> dict[str, Any]:
        """The validated id_token body."""
        return dict(self._jwt["body"])

    # -- the checks, in order -------------------------------------------------------
    def _check_state(self) -> dict[str, Any]:
        error = self._get_request_param("error")
        if error and not self._get_request_param("id_token"):
            # The platform's auth endpoint refused the login and says why (OIDC error POST).
            description = self._get_request_param("error_description") or ""
            raise LaunchError(
                f"The platform refused the login: {error}. {description}".strip(),
                detail=f"platform auth error {error!r}: {description!r}",
            )
        state = self._get_request_param("state")
        if not state:
            raise LaunchError("The launch has no state. Open the activity again from the course.")
        params = self._session_service.take_state_params(state)
        if not params:
            raise LaunchError(
                "This launch has expired or was already used. Open the activity again "
                "from the course page.",
                detail=f"unknown, expired or replayed state {state[:16]}...",
            )
        if self._cookie_service.get_cookie(state) != state:
            raise LaunchError(
                "Your browser did not send back the cookie set when the launch began, so "
                "this launch cannot be tied to you. Allow cookies for this site or open "
                "the activity in a new window.",
                detail="state cookie missing or different",
            )
        return params

    def _check_format(self) -> None:
        token = self._get_request_param("id_token")
        if not token:
            raise LaunchError("The launch carries no id_token.")
        try:
            self.validate_jwt_format()
        except LtiException as exc:
            raise LaunchError("The launch's id_token is not a JWT.", detail=str(exc)) from exc
        header = self._jwt.get("header") or {}
        if not isinstance(header, dict) or not isinstance(self._jwt.get("body"), dict):
            raise LaunchError("The launch's id_token is not a JWT.")
        if header.get("alg") != "RS256":
            raise LaunchError(
                f"The launch is signed with {header.get('alg')!r}; LTI 1.3 requires RS256."
            )
        if not header.get("kid"):
            raise LaunchError("The launch's id_token has no key id (kid) in its header.")

    def _check_audience(self) -> None:
        body = self._jwt["body"]
        aud = body.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        audiences = [a for a in audiences if isinstance(a, str) and a]
        if not audiences:
            raise LaunchError("The launch names no audience (aud).")
        if len(audiences) > 1:
            azp = body.get("azp")
            if not azp or azp not in audiences:
                raise LaunchError(
                    "The launch names several audiences but no authorized party (azp) "
                    "among them."
                )
            self._client_id = azp
        else:
            self._client_id = audiences[0]
        expected = self.login_params.get("client_id")
        if self._client_id != expected:
            raise LaunchError(
                "The launch was issued for another client id than the login that began it.",
                detail=f"aud/azp {self._client_id!r} != login {expected!r}",
            )

    def _check_registration(self) -> None:
        iss = self._jwt["body"].get("iss")
        if iss != self.login_params.get("iss"):
            raise LaunchError(
                "The launch comes from another issuer than the login that began it.",
                detail=f"iss {iss!r} != login {self.login_params.get('iss')!r}",
            )
        platform = tool_config.find_platform(iss, self._client_id)
        if platform is None:
            raise LaunchError(f"This tool has no registration for issuer {iss}.")
        self.platform = platform
        self._registration = tool_config.registration_for(platform)

    def _platform_keys(self, refresh: bool = False) -> dict[str, Any]:
        store = shared_store()
        url = self.platform.key_set_url
        cache_key = "platform-jwks:" + hashlib.sha256(url.encode()).hexdigest()
        if not refresh:
            cached = store.get(cache_key)
            if cached:
                return cached
        try:
            response = requests.get(url, timeout=current_app.config["HTTP_TIMEOUT_SECONDS"])
            response.raise_for_status()
            key_set = response.json()
            if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
                raise ValueError("no 'keys' list")
        except (requests.RequestException, ValueError) as exc:
            raise LaunchError(
                f"The platform's public keys could not be read from {url}.",
                status=502, detail=f"JWKS fetch failed: {exc}",
            ) from exc
        store.set(cache_key, key_set, current_app.config["PLATFORM_JWKS_CACHE_SECONDS"])
        return key_set

    def _find_key(self, kid: str) -> dict[str, Any]:
        for refresh in (False, True):
            # Platforms rotate keys: an unknown kid refetches the key set once.
            for key in self._platform_keys(refresh=refresh).get("keys", []):
                if isinstance(key, dict) and key.get("kid") == kid:
                    if key.get("alg", "RS256") != "RS256" or key.get("kty") != "RSA":
                        raise LaunchError(f"The platform key {kid} is not an RS256 key.")
                    return key
        raise LaunchError(
            f"The platform's key set at {self.platform.key_set_url} has no key {kid!r}.",
            detail=f"unknown kid {kid!r}",
        )

    def _check_signature(self) -> None:
        key = self._find_key(self._jwt["header"]["kid"])
        config = current_app.config
        try:
            jwt.decode(
                self._get_id_token(),
                jwt.PyJWK.from_dict(key, algorithm="RS256").key,
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=self.platform.issuer,
                leeway=config["ID_TOKEN_LEEWAY_SECONDS"],
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LaunchError(
                "The launch token has expired. Launch tokens live for a minute or so; "
                "open the activity again, and if this repeats, check the clocks of the LMS "
                "and tool servers.", detail=str(exc),
            ) from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchError(
                "The launch token says it was issued in the future: the clocks of the LMS "
                "and tool servers disagree.", detail=str(exc),
            ) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchError(f"The launch lacks the required claim {exc.claim!r}.") from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchError(
                "The launch's signature or claims are not valid.", detail=str(exc)
            ) from exc
        iat = self._jwt["body"].get("iat")
        if not isinstance(iat, (int, float)) or iat < time.time() - (
            config["ID_TOKEN_MAX_AGE_SECONDS"] + config["ID_TOKEN_LEEWAY_SECONDS"]
        ):
            raise LaunchError("The launch token was issued too long ago.", detail=f"iat={iat}")

    def _check_nonce(self) -> None:
        # The state record holding this nonce was taken (deleted) in _check_state, so a
        # replay of the same id_token finds no state: the nonce is single-use.
        nonce = self._jwt["body"].get("nonce")
        if not isinstance(nonce, str) or nonce != self.login_params.get("nonce"):
            raise LaunchError(
                "The launch's nonce is not the one this tool gave at login.",
                detail="nonce mismatch",
            )

    def _check_deployment(self) -> None:
        deployment_id = self._jwt["body"].get(CLAIM + "deployment_id")
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LaunchError("The launch has no deployment_id.")
        if len(deployment_id) > 255:
            raise LaunchError("The launch's deployment_id is longer than 255 characters.")
        deployment = tool_config.find_deployment(self.platform, deployment_id)
        if deployment is None:
            raise LaunchError(
                f"Deployment {deployment_id} is not registered for issuer "
                f"{self.platform.issuer} (client id {self.platform.client_id}). An "
                "administrator can allow it with: flask platforms add-deployment "
                f"--issuer '{self.platform.issuer}' --client-id '{self.platform.client_id}' "
                f"--deployment '{deployment_id}'",
                status=403, detail=f"unknown deployment {deployment_id!r}",
            )
        self.deployment = deployment

    def _check_message(self) -> None:
        body = self._jwt["body"]
        message_type = body.get(CLAIM + "message_type")
        if not message_type:
            raise LaunchError("The launch has no message_type.")
        if message_type not in SUPPORTED_MESSAGES:
            raise LaunchError(f"This tool does not handle {message_type!r} messages.")
        version = body.get(CLAIM + "version")
        if version != "1.3.0":
            raise LaunchError(f"The launch's LTI version is {version!r}; expected '1.3.0'.")
        if not isinstance(body.get(CLAIM + "roles"), list):
            raise LaunchError("The launch has no roles claim.")
        if not body.get("sub") or not isinstance(body.get("sub"), str):
            raise LaunchError(
                "The launch does not say who you are (no sub): this tool saves your answers "
                "and cannot work with anonymous launches."
            )
        if message_type == "LtiResourceLinkRequest":
            link = body.get(CLAIM + "resource_link")
            if not isinstance(link, dict) or not link.get("id"):
                raise LaunchError("The launch has no resource_link id.")
        target = body.get(CLAIM + "target_link_uri")
        if target != self.login_params.get("target_link_uri"):
            raise LaunchError(
                "The launch's target_link_uri differs from the one given at login.",
                detail=f"{target!r} != {self.login_params.get('target_link_uri')!r}",
            )
        for validator in get_validators():
            if validator.can_validate(body):
                validator.validate(body)


def describe(claims: dict[str, Any]) -> str:
    """A short, secret-free summary of a launch for the log."""
    return json.dumps(
        {
            "iss": claims.get("iss"),
            "sub": claims.get("sub"),
            "deployment_id": claims.get(CLAIM + "deployment_id"),
            "context": (claims.get(CLAIM + "context") or {}).get("id"),
            "message_type": claims.get(CLAIM + "message_type"),
        }
    )
