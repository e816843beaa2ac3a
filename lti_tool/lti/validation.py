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
import hmac
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from flask import current_app, request
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.message_validators import get_validators

from lti_tool.i18n import english
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Deployment
from lti_tool.lti import registry, tool_config
from lti_tool.lti.provisioning import get_or_create
from lti_tool.lti.registry import DeploymentRecord, PlatformRecord
from lti_tool.lti.storage import SharedLaunchDataStorage, SharedSessionService, shared_store

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
SUPPORTED_MESSAGES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
STATE_COOKIE_PREFIX = "dmd-lti-"
#: pylti1p3's marker on a login re-run in a window of its own, where cookies are first-party.
NEW_WINDOW_PARAM = "lti1p3_new_window"
#: The login request's parameters that a new window sends again to start the same login.
LOGIN_REQUEST_PARAMS = (
    "iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id",
)


class LaunchError(Exception):
    """A login or launch that cannot go on; `message` is safe to show (in the page's
    language), `detail` is for logs (in English)."""

    def __init__(self, message: str, *, status: int = 400, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail or english(message)


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


class StateProofMissing(Exception):
    """The browser did not send back the state cookie; the launch cannot be tied to it yet.

    `storage_target` set: the login stored the state in the platform's storage, so a page can
    read it back (the state record is still there). Otherwise the state is spent and the only
    way on is a window of the tool's own (`new_window_url`), where cookies are first-party.
    """

    def __init__(self, state: str, login_params: dict[str, Any]) -> None:
        super().__init__("state cookie missing")
        self.state = state
        self.storage_target: str | None = login_params.get("storage_target")
        self.storage_origin: str | None = login_params.get("storage_origin")
        self.new_window_url = new_window_url(login_params.get("login") or {})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def tool_origin() -> str:
    """scheme://host[:port] of TOOL_URL: the only Origin the tool's own pages post from."""
    return _origin(current_app.config["TOOL_URL"])


def new_window_url(login_request: dict[str, str]) -> str:
    """The tool's login URL that starts this login again in a window of its own."""
    query = urlencode({**login_request, NEW_WINDOW_PARAM: "1"})
    return f"{current_app.config['TOOL_URL']}/lti/login?{query}"


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
            raise LaunchError(_l(
                "The platform's login request lacks %(missing)s. Open the tool from a course "
                "page in your LMS rather than by its address.", missing=", ".join(missing),
            ))
        tool_url = current_app.config["TOOL_URL"]
        if not (target == tool_url or target.startswith(tool_url + "/")):
            raise LaunchError(_l(
                "The login asks for %(target)s, which is not a page of this tool (%(tool_url)s). "
                "Check the Tool URL in the platform's registration.",
                target=target, tool_url=tool_url,
            ))
        platform = tool_config.find_platform(iss, client_id, for_launch=False)
        if platform is None:
            raise LaunchError(
                _l("This tool has no registration for issuer %(iss)s with client id "
                   "%(client_id)s. An administrator can add it with `flask platforms add` or by "
                   "Dynamic Registration.", iss=iss, client_id=client_id) if client_id
                else _l("This tool has no registration for issuer %(iss)s. An administrator "
                        "can add it with `flask platforms add` or by Dynamic Registration.",
                        iss=iss),
                detail=f"unknown platform iss={iss!r} client_id={client_id!r}",
            )
        in_new_window = bool(self._get_request_param(NEW_WINDOW_PARAM))
        self._state_params.update(
            {"iss": iss, "client_id": platform.client_id, "target_link_uri": target,
             # A window of its own has no platform frame to store anything in.
             "storage_target": None if in_new_window
             else self._get_request_param("lti_storage_target") or None,
             # Platform Storage answers come from the platform's OIDC auth endpoint origin.
             "storage_origin": _origin(platform.auth_login_url),
             "in_new_window": in_new_window,
             "login": {name: value for name in LOGIN_REQUEST_PARAMS
                       if (value := self._get_request_param(name))}}
        )
        return tool_config.registration_for(platform)


@dataclass(frozen=True)
class LoginStart:
    """A login that may go on to the platform: where to, and what the browser needs."""

    auth_url: str
    cookies: StateCookies
    state: str
    #: The frame named by the login's lti_storage_target ("_parent" or a frame name), if any.
    storage_target: str | None
    #: The platform's OIDC auth endpoint origin: target and expected sender of postMessages.
    storage_origin: str
    #: The login started again in a window of its own (pylti1p3's lti1p3_new_window).
    in_new_window: bool
    new_window_url: str


def begin_login() -> LoginStart:
    """The platform's OIDC auth URL for this login request, the state cookie and the rest."""
    login = ToolLogin()
    try:
        url = login.get_redirect_object(launch_url()).get_redirect_url()
    except (OIDCException, LtiException) as exc:
        raise LaunchError(_l("The login request was refused: %(reason)s", reason=str(exc))) from exc
    params = login._state_params
    return LoginStart(
        auth_url=url, cookies=login.cookies, state=parse_qs(urlsplit(url).query)["state"][0],
        storage_target=params["storage_target"], storage_origin=params["storage_origin"],
        in_new_window=params["in_new_window"], new_window_url=new_window_url(params["login"]),
    )


class ToolLaunch(FlaskMessageLaunch):
    """A resource link or deep linking launch, validated item by item."""

    platform: PlatformRecord
    deployment: DeploymentRecord
    login_params: dict[str, Any]

    def __init__(self, storage_proof: str | None = None) -> None:
        storage = _storage()
        super().__init__(
            FlaskRequest(),
            tool_config.DatabaseToolConf(),
            session_service=SharedSessionService(storage),
            cookie_service=StateCookies(),
        )
        self._session_service.set_data_storage(storage)
        self._client_id: str | None = None
        #: The state as the tool's page read it back from Platform Storage, instead of a cookie.
        self._storage_proof = storage_proof

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
            raise LaunchError(_l("The launch was refused: %(reason)s", reason=str(exc))) from exc
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
                _l("The platform refused the login: %(error)s. %(description)s", error=error,
                   description=description),
                detail=f"platform auth error {error!r}: {description!r}",
            )
        state = self._get_request_param("state")
        if not state:
            raise LaunchError(
                _l("The launch has no state. Open the activity again from the course."))
        if self._storage_proof is not None:
            return self._check_storage_proof(state)
        cookie = self._cookie_service.get_cookie(state)
        if cookie is None:
            # No cookie: a browser blocking the tool's cookies in the LMS frame, or a launch
            # posted from another browser. Either way it is not accepted here; the caller
            # offers Platform Storage or a window of the tool's own.
            params = self._session_service.peek_state_params(state)
            if params and not params.get("storage_target"):
                # Nothing else can prove this browser began the login: the state is spent.
                params = self._session_service.take_state_params(state)
            if params:
                raise StateProofMissing(state, params)
        params = self._session_service.take_state_params(state)
        if not params:
            raise self._state_unknown(state)
        if cookie is None or not _same(cookie, state):
            raise LaunchError(
                _l("Your browser sent back another cookie than the one set when the launch "
                   "began, so this launch cannot be tied to you. Open the activity again."),
                detail="state cookie different",
            )
        return params

    @staticmethod
    def _state_unknown(state: str) -> LaunchError:
        return LaunchError(
            _l("This launch has expired or was already used. Open the activity again "
               "from the course page."),
            detail=f"unknown, expired or replayed state {state[:16]}...",
        )

    def _check_storage_proof(self, state: str) -> dict[str, Any]:
        """Accept the state read back from Platform Storage in place of the state cookie.

        The cookie (or this proof) is what defeats login CSRF: an attacker who completed a
        login of their own holds a valid id_token and state, and could make a victim's
        browser post them to the tool so that the victim works in the attacker's account.
        The value here is trusted only because of where it comes from:

        - The tool's launch page read it with `lti.get_data` from the platform's storage,
          which keeps values per tool origin and per browser (the platform page in the
          victim's browser holds only states of logins that began in it), accepting the
          answer only from the platform's auth endpoint origin.
        - That page posts it to this endpoint itself. Browsers put the page's origin in the
          `Origin` header of every cross-origin POST and a page cannot change it, so a
          forged post from another site arrives with another Origin (or "null") and is
          refused before the state record is touched.
        - The value must equal the state, and the login must have offered Platform Storage.
        - The state record is taken (read and deleted) at once: one attempt per login, so a
          replay of the same post finds nothing.
        """
        origin = request.headers.get("Origin")
        if origin != tool_origin():
            raise LaunchError(
                _l("This launch was not sent by the tool's own page. Open the activity again "
                   "from the course page."),
                status=403, detail=f"platform storage proof from Origin {origin!r}",
            )
        params = self._session_service.take_state_params(state)
        if not params:
            raise self._state_unknown(state)
        if not params.get("storage_target"):
            raise LaunchError(
                _l("This launch did not begin with the platform's storage. Open the activity "
                   "again from the course page."),
                status=403, detail="platform storage proof for a login without storage target",
            )
        if not _same(self._storage_proof, state):
            raise LaunchError(
                _l("The value read back from the platform's storage does not match this "
                   "launch. Open the activity again from the course page."),
                status=403, detail="platform storage value differs from state",
            )
        return params

    def _check_format(self) -> None:
        token = self._get_request_param("id_token")
        if not token:
            raise LaunchError(_l("The launch carries no id_token."))
        try:
            self.validate_jwt_format()
        except LtiException as exc:
            raise LaunchError(_l("The launch's id_token is not a JWT."), detail=str(exc)) from exc
        header = self._jwt.get("header") or {}
        if not isinstance(header, dict) or not isinstance(self._jwt.get("body"), dict):
            raise LaunchError(_l("The launch's id_token is not a JWT."))
        if header.get("alg") != "RS256":
            raise LaunchError(_l("The launch is signed with %(alg)s; LTI 1.3 requires RS256.",
                                 alg=repr(header.get("alg"))))
        if not header.get("kid"):
            raise LaunchError(_l("The launch's id_token has no key id (kid) in its header."))

    def _check_audience(self) -> None:
        body = self._jwt["body"]
        aud = body.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        audiences = [a for a in audiences if isinstance(a, str) and a]
        if not audiences:
            raise LaunchError(_l("The launch names no audience (aud)."))
        if len(audiences) > 1:
            azp = body.get("azp")
            if not azp or azp not in audiences:
                raise LaunchError(_l(
                    "The launch names several audiences but no authorized party (azp) "
                    "among them."
                ))
            self._client_id = azp
        else:
            self._client_id = audiences[0]
        expected = self.login_params.get("client_id")
        if self._client_id != expected:
            raise LaunchError(
                _l("The launch was issued for another client id than the login that began it."),
                detail=f"aud/azp {self._client_id!r} != login {expected!r}",
            )

    def _check_registration(self) -> None:
        iss = self._jwt["body"].get("iss")
        if iss != self.login_params.get("iss"):
            raise LaunchError(
                _l("The launch comes from another issuer than the login that began it."),
                detail=f"iss {iss!r} != login {self.login_params.get('iss')!r}",
            )
        platform = tool_config.find_platform(iss, self._client_id)
        if platform is None:
            raise LaunchError(_l("This tool has no registration for issuer %(iss)s.", iss=iss))
        self.platform = platform
        self._registration = tool_config.registration_for(platform)

    def _platform_keys(self, refresh: bool = False) -> dict[str, Any]:
        store = shared_store()
        url = self.platform.key_set_url
        cache_key = "platform-jwks:" + hashlib.sha256(url.encode()).hexdigest()
        if not refresh:
            # This process's copy first, then the copy every worker shares (kept here for
            # a minute at most: its own lifetime in the store is not known).
            kept = registry.key_set(url)
            if kept:
                return kept
            cached = store.get(cache_key)
            if cached:
                registry.keep_key_set(url, cached, min(60, current_app.config[
                    "PLATFORM_JWKS_CACHE_SECONDS"]))
                return cached
        try:
            response = requests.get(url, timeout=current_app.config["HTTP_TIMEOUT_SECONDS"])
            response.raise_for_status()
            key_set = response.json()
            if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
                raise ValueError("no 'keys' list")
        except (requests.RequestException, ValueError) as exc:
            raise LaunchError(
                _l("The platform's public keys could not be read from %(url)s.", url=url),
                status=502, detail=f"JWKS fetch failed: {exc}",
            ) from exc
        ttl = current_app.config["PLATFORM_JWKS_CACHE_SECONDS"]
        store.set(cache_key, key_set, ttl)
        registry.keep_key_set(url, key_set, ttl)
        return key_set

    def _find_key(self, kid: str) -> dict[str, Any]:
        for refresh in (False, True):
            # Platforms rotate keys: an unknown kid refetches the key set once.
            for key in self._platform_keys(refresh=refresh).get("keys", []):
                if isinstance(key, dict) and key.get("kid") == kid:
                    if key.get("alg", "RS256") != "RS256" or key.get("kty") != "RSA":
                        raise LaunchError(
                            _l("The platform key %(kid)s is not an RS256 key.", kid=kid))
                    return key
        raise LaunchError(
            _l("The platform's key set at %(url)s has no key %(kid)s.",
               url=self.platform.key_set_url, kid=repr(kid)),
            detail=f"unknown kid {kid!r}",
        )

    def _check_signature(self) -> None:
        key = self._find_key(self._jwt["header"]["kid"])
        config = current_app.config
        try:
            jwt.decode(
                self._get_id_token(),
                _rsa_public_key(key.get("n"), key.get("e")),
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=self.platform.issuer,
                leeway=config["ID_TOKEN_LEEWAY_SECONDS"],
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LaunchError(
                _l("The launch token has expired. Launch tokens live for a minute or so; "
                   "open the activity again, and if this repeats, check the clocks of the LMS "
                   "and tool servers."), detail=str(exc),
            ) from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchError(
                _l("The launch token says it was issued in the future: the clocks of the LMS "
                   "and tool servers disagree."), detail=str(exc),
            ) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchError(_l("The launch lacks the required claim %(claim)s.",
                                 claim=repr(exc.claim))) from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchError(
                _l("The launch's signature or claims are not valid."), detail=str(exc)
            ) from exc
        iat = self._jwt["body"].get("iat")
        if not isinstance(iat, (int, float)) or iat < time.time() - (
            config["ID_TOKEN_MAX_AGE_SECONDS"] + config["ID_TOKEN_LEEWAY_SECONDS"]
        ):
            raise LaunchError(_l("The launch token was issued too long ago."),
                              detail=f"iat={iat}")

    def _check_nonce(self) -> None:
        # The state record holding this nonce was taken (deleted) in _check_state, so a
        # replay of the same id_token finds no state: the nonce is single-use.
        nonce = self._jwt["body"].get("nonce")
        if not isinstance(nonce, str) or nonce != self.login_params.get("nonce"):
            raise LaunchError(
                _l("The launch's nonce is not the one this tool gave at login."),
                detail="nonce mismatch",
            )

    def _check_deployment(self) -> None:
        deployment_id = self._jwt["body"].get(CLAIM + "deployment_id")
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LaunchError(_l("The launch has no deployment_id."))
        if len(deployment_id) > 255:
            raise LaunchError(_l("The launch's deployment_id is longer than 255 characters."))
        deployment = tool_config.find_deployment(self.platform, deployment_id)
        # A platform registered without a deployment (Canvas's Dynamic Registration names
        # none: the app is installed afterwards) learns its first one from its first launch.
        first = deployment is None and not self.platform.deployments
        if deployment is None and (first or current_app.config["UNKNOWN_DEPLOYMENTS"] == "accept"):
            # The registered platform signed this launch (checked above), so the deployment
            # it names is real (Canvas: the app installed in one more account): record it.
            row = get_or_create(
                Deployment, {"platform_id": self.platform.id, "deployment_id": deployment_id}
            )
            deployment = DeploymentRecord(row.id, row.deployment_id)
            current_app.logger.info(
                "recorded new deployment %r of %s (client id %s)", deployment_id,
                self.platform.issuer, self.platform.client_id,
            )
        if deployment is None:
            raise LaunchError(
                _l("Deployment %(deployment)s is not registered for issuer %(iss)s (client id "
                   "%(client_id)s). An administrator can allow it with: %(command)s",
                   deployment=deployment_id, iss=self.platform.issuer,
                   client_id=self.platform.client_id,
                   command=f"flask platforms add-deployment --issuer '{self.platform.issuer}' "
                           f"--client-id '{self.platform.client_id}' "
                           f"--deployment '{deployment_id}'"),
                status=403, detail=f"unknown deployment {deployment_id!r}",
            )
        self.deployment = deployment

    def _check_message(self) -> None:
        body = self._jwt["body"]
        message_type = body.get(CLAIM + "message_type")
        if not message_type:
            raise LaunchError(_l("The launch has no message_type."))
        if message_type not in SUPPORTED_MESSAGES:
            raise LaunchError(_l("This tool does not handle %(type)s messages.",
                                 type=repr(message_type)))
        version = body.get(CLAIM + "version")
        if version != "1.3.0":
            raise LaunchError(_l("The launch's LTI version is %(version)s; expected '1.3.0'.",
                                 version=repr(version)))
        if not isinstance(body.get(CLAIM + "roles"), list):
            raise LaunchError(_l("The launch has no roles claim."))
        if not body.get("sub") or not isinstance(body.get("sub"), str):
            raise LaunchError(_l(
                "The launch does not say who you are (no sub): this tool saves your answers "
                "and cannot work with anonymous launches."
            ))
        if message_type == "LtiResourceLinkRequest":
            link = body.get(CLAIM + "resource_link")
            if not isinstance(link, dict) or not link.get("id"):
                raise LaunchError(_l("The launch has no resource_link id."))
        target = body.get(CLAIM + "target_link_uri")
        if target != self.login_params.get("target_link_uri"):
            raise LaunchError(
                _l("The launch's target_link_uri differs from the one given at login."),
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


def _rsa_public_key(n: Any, e: Any) -> Any:
    """The RSA public key of a JWK's modulus and exponent (jwt.InvalidTokenError for material
    that is no RSA key), built once per key: the cache is keyed by the key material itself,
    so a rotated or changed key is simply another entry."""
    if not isinstance(n, str) or not isinstance(e, str):
        raise jwt.InvalidTokenError("the platform key has no RSA modulus and exponent")
    return _public_key_of(n, e)


@lru_cache(maxsize=64)
def _public_key_of(n: str, e: str) -> Any:
    try:
        return jwt.PyJWK.from_dict({"kty": "RSA", "n": n, "e": e}, algorithm="RS256").key
    except (jwt.PyJWTError, ValueError) as exc:
        raise jwt.InvalidTokenError(f"the platform key is not a valid RSA key: {exc}") from exc
