"""LTI Dynamic Registration: read the platform's configuration, register, remember it.

The platform (Moodle ≥ 3.10, Canvas) opens the tool's registration URL with
`openid_configuration` and `registration_token`. The tool reads that configuration,
checks that the issuer, the registration endpoint and the configuration URL are one site
(so a forged configuration cannot make the tool trust another site's keys), posts its
client registration with pylti1p3's DynamicRegistration, and stores the Platform and its
Deployment. Every request has a timeout and follows no redirect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException, LtiServiceException
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.i18n import english
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Deployment, Platform
from lti_tool.lti import tool_profile
from lti_tool.lti.services import PlatformSession

log = logging.getLogger(__name__)

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
CANVAS = "https://canvas.instructure.com/lti/"
REQUIRED_ENDPOINTS = (
    "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint",
)
DEFAULT_PORTS = {"http": 80, "https": 443}


class RegistrationError(Exception):
    """Dynamic Registration cannot go on; `message` is for the administrator at the screen
    (in the page's language), `detail` for the log (in English)."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or english(message)


class BadRegistrationRequest(RegistrationError):
    """The platform opened the tool with unusable parameters or an untrustworthy configuration."""


class RegistrationNotAllowed(RegistrationError):
    """This platform may not register the tool (REGISTRATION_MODE and the allowlist)."""


class PlatformFailed(RegistrationError):
    """The platform did not answer, or answered with an error or something unusable."""

    def __init__(self, message: str, *, detail: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, detail=detail)
        self.status = status


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's OpenID configuration the tool uses."""

    url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    #: The `aud` of client assertions, when the platform names one (else the token URL).
    authorization_server: str | None = None
    product: str = ""
    version: str = ""
    account_name: str = ""

    @property
    def label(self) -> str:
        """A name for people: 'Moodle at moodle.example.edu' or the Canvas account's name."""
        product = self.product.capitalize() or "LMS"
        if self.account_name:
            return f"{product}: {self.account_name}"[:255]
        return f"{product} at {urlsplit(self.issuer).netloc}"[:255]


@dataclass(frozen=True)
class RegistrationOutcome:
    """What a successful registration left behind."""

    configuration: PlatformConfiguration
    platform: Platform
    deployment_id: str | None
    #: True when the registration was new; False when an existing one was updated.
    created: bool
    granted_scopes: tuple[str, ...] = field(default_factory=tuple)


#: Public suffixes of more than one label that universities commonly sit under. The site
#: of a host is its registrable domain: one label more than its public suffix.
MULTI_LABEL_SUFFIXES = frozenset({
    "ac.uk", "co.uk", "org.uk", "gov.uk", "ac.nz", "co.nz", "edu.au", "com.au", "org.au",
    "edu.pl", "com.pl", "org.pl", "net.pl", "gov.pl", "edu.br", "com.br", "ac.jp", "co.jp",
    "edu.cn", "com.cn", "ac.in", "edu.in", "ac.za", "co.za", "edu.mx", "com.mx", "edu.ar",
    "edu.co", "edu.sg", "edu.hk", "edu.tr", "ac.il", "ac.kr", "edu.my", "edu.ph", "ac.th",
    "edu.es", "ac.at", "edu.pe", "edu.ec", "edu.uy", "edu.ng", "ac.ke", "edu.eg", "edu.sa",
})


def site(url: str) -> tuple[str, str] | None:
    """The URL's site as browsers define it: scheme and registrable domain.

    Hosted Canvas is why this is not the exact host: its issuer is
    https://canvas.instructure.com while each school's registration endpoint lives on
    https://school.instructure.com. A configuration naming another registrable domain
    (or another scheme) is still refused. IP addresses and single-label hosts such as
    localhost have no registrable domain: there the port counts too, the stricter choice.
    None for anything but an http(s) URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    labels = host.split(".")
    if len(labels) < 2 or all(label.isdigit() for label in labels) or ":" in host:
        return parts.scheme, f"{host}:{port}"
    keep = 3 if ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES else 2
    return parts.scheme, ".".join(labels[-keep:])


def same_site(*urls: str) -> bool:
    """True when every URL has the same scheme and registrable domain."""
    sites = {site(url) for url in urls}
    return len(sites) == 1 and None not in sites


def vouched_for(issuer: str, endpoint: str, url: str) -> bool:
    """True when the operator listed the configuration's site for this issuer.

    Canvas cloud signs as https://canvas.instructure.com for every school, and a school
    that answers at its own domain (canvas.school.edu rather than school.instructure.com)
    registers from there: REGISTRATION_ISSUER_SITES says which sites may speak for which
    issuer. The endpoint and the configuration must still be on that one site.
    """
    sites = current_app.config["REGISTRATION_ISSUER_SITES"].get(issuer.rstrip("/"), [])
    return same_site(endpoint, url) and any(same_site(url, listed) for listed in sites)


def check_url(url: str | None, what: object) -> str:
    """An absolute http(s) URL without fragment (https only in production), or refuse."""
    if not url or site(url) is None or urlsplit(url).fragment:
        raise BadRegistrationRequest(_l(
            "The %(what)s %(url)s is not an http(s) address. Start the registration again "
            "from your LMS.", what=what, url=repr(url),
        ))
    if current_app.config["ENV"] == "production" and not url.startswith("https://"):
        raise BadRegistrationRequest(_l("The %(what)s %(url)s must use https.", what=what,
                                        url=url))
    return url


def issuer_allowed(issuer: str, allowed: list[str]) -> bool:
    """True when the issuer is on the allowlist (trailing slashes ignored)."""
    return issuer.rstrip("/") in {a.rstrip("/") for a in allowed}


def site_allowed(url: str, allowed: list[str]) -> bool:
    """True when a URL is on the site of an allowed issuer (checked before fetching it)."""
    return any(same_site(url, issuer) for issuer in allowed)


class ToolRegistration(DynamicRegistration):
    """pylti1p3's registration flow with the tool's description, checks and storage."""

    response_types = ["id_token"]
    grant_types = ["implicit", "client_credentials"]

    def __init__(self, configuration_url: str, registration_token: str | None, *,
                 expected_issuer: str | None = None) -> None:
        self._configuration_url = configuration_url
        self._registration_token = registration_token or None
        self._expected_issuer = expected_issuer
        self.configuration: PlatformConfiguration | None = None
        self.timeout = current_app.config["HTTP_TIMEOUT_SECONDS"]

    # -- what the tool declares (pylti1p3 hooks) -------------------------------------
    def get_request_session(self) -> requests.Session:
        """A session with a timeout on every call."""
        return PlatformSession(self.timeout, follow_redirects=False)

    def get_client_name(self) -> str:
        """The tool's name as the platform lists it."""
        return tool_profile.tool_name()

    def get_description(self) -> str:
        """A sentence about the tool."""
        return tool_profile.DESCRIPTION

    def get_initiate_login_uri(self) -> str:
        """The OIDC login initiation URL."""
        return tool_profile.tool_urls()["login_url"]

    def get_jwks_uri(self) -> str:
        """The tool's public keys."""
        return tool_profile.tool_urls()["jwks_url"]

    def get_redirect_uris(self) -> list[str]:
        """The one redirect URI, matched exactly by platforms."""
        return [tool_profile.tool_urls()["redirect_uri"]]

    def get_scopes(self) -> list[str]:
        """AGS with column management, and NRPS."""
        return list(tool_profile.SCOPES)

    def get_domain(self) -> str:
        """host[:port] of TOOL_URL (Moodle: must equal target_link_uri's)."""
        return tool_profile.domain()

    def get_target_link_uri(self) -> str:
        """The default launch URL."""
        return tool_profile.tool_urls()["target_link_uri"]

    def get_claims(self) -> list[str]:
        """The claims the tool wants in id_tokens."""
        return list(tool_profile.CLAIMS)

    def get_messages(self) -> list[dict[str, Any]]:
        """Resource link and Deep Linking, with labels and Canvas placements."""
        return tool_profile.messages()

    def get_logo_uri(self) -> str:
        """The tool's logo, served from its static files."""
        return tool_profile.tool_urls()["logo_url"]

    def get_openid_configuration_endpoint(self) -> str:
        """The configuration URL the platform gave."""
        return self._configuration_url

    def get_registration_token(self) -> str | None:
        """The platform's single-use registration token (may be absent)."""
        return self._registration_token

    def lti_registration_data(self) -> dict[str, Any]:
        """The client registration, with custom parameters and Canvas's extensions."""
        data = super().lti_registration_data()
        data["client_uri"] = current_app.config["TOOL_URL"]
        tool = data[TOOL_CONFIGURATION]
        tool["custom_parameters"] = dict(tool_profile.CUSTOM_PARAMETERS)
        tool[CANVAS + "privacy_level"] = tool_profile.CANVAS_PRIVACY_LEVEL
        tool[CANVAS + "tool_id"] = tool_profile.CANVAS_TOOL_ID
        return data

    # -- the platform's configuration -------------------------------------------------
    def get_openid_configuration(self) -> dict[str, Any]:
        """Fetch the configuration (with the token, as Canvas and Moodle want) and check it."""
        url = self._configuration_url
        headers = {"Accept": "application/json"}
        if self._registration_token:
            headers["Authorization"] = "Bearer " + self._registration_token
        with self.get_request_session() as http:
            try:
                response = http.get(url, headers=headers)
            except requests.Timeout as exc:
                raise PlatformFailed(
                    _l("The platform did not send its configuration within %(seconds)s "
                       "seconds (%(url)s).", seconds=f"{self.timeout:g}", url=url),
                    detail=f"timeout: {exc}",
                ) from exc
            except requests.RequestException as exc:
                raise PlatformFailed(
                    _l("The platform's configuration could not be read from %(url)s.", url=url),
                    detail=f"{type(exc).__name__}: {exc}",
                ) from exc
        if not response.ok:
            raise PlatformFailed(
                _l("The platform answered HTTP %(status)d when asked for its configuration at "
                   "%(url)s: %(answer)s.%(hint)s", status=response.status_code, url=url,
                   answer=_platform_message(response), hint=_token_hint(response.status_code)),
                detail=f"configuration HTTP {response.status_code}: {response.text[:300]}",
                status=response.status_code,
            )
        try:
            raw = response.json()
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise PlatformFailed(
                _l("The platform's configuration at %(url)s is not a JSON object.", url=url),
                detail=f"not JSON: {response.text[:200]!r}",
            )
        self.configuration = parse_configuration(url, raw)
        if self._expected_issuer and self.configuration.issuer != self._expected_issuer:
            raise BadRegistrationRequest(_l(
                "The platform's configuration changed during the registration "
                "(issuer %(before)s became %(after)s).", before=self._expected_issuer,
                after=self.configuration.issuer,
            ))
        return raw

    # -- after the platform said yes ------------------------------------------------
    def complete_registration(
        self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]
    ) -> RegistrationOutcome:
        """Store the Platform (client id from the answer) and its Deployment, if given."""
        assert self.configuration is not None
        client_id = openid_registration.get("client_id")
        if not isinstance(client_id, (str, int)) or not str(client_id).strip():
            raise PlatformFailed(
                _l("The platform accepted the registration but sent no client_id."),
                detail=f"registration answer keys: {sorted(openid_registration)}",
            )
        tool = openid_registration.get(TOOL_CONFIGURATION) or {}
        deployment_id = tool.get("deployment_id") if isinstance(tool, dict) else None
        deployment_id = str(deployment_id)[:255] if deployment_id not in (None, "") else None
        scope = openid_registration.get("scope")
        granted = tuple(scope.split()) if isinstance(scope, str) else ()
        platform, created = store_platform(self.configuration, str(client_id)[:255],
                                           deployment_id)
        return RegistrationOutcome(self.configuration, platform, deployment_id, created, granted)


def _token_hint(status: int) -> object:
    if status in (401, 403):
        return _l(" It refused the registration token: tokens work once and for a limited "
                  "time (an hour in Moodle). Start the registration again from your LMS.")
    return ""


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def parse_configuration(url: str, raw: dict[str, Any]) -> PlatformConfiguration:
    """Check a platform's OpenID configuration and keep what the tool needs."""
    missing = [key for key in REQUIRED_ENDPOINTS if not _text(raw, key)]
    lti = raw.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict):
        missing.append(PLATFORM_CONFIGURATION)
    if missing:
        raise PlatformFailed(_l(
            "The platform's configuration at %(url)s is not an LTI platform configuration: "
            "it lacks %(missing)s.", url=url, missing=", ".join(missing),
        ))
    for key in REQUIRED_ENDPOINTS:
        check_url(_text(raw, key), _l("platform's %(key)s", key=key))
    issuer = _text(raw, "issuer").rstrip("/")
    endpoint = _text(raw, "registration_endpoint")
    if not same_site(issuer, endpoint, url) and not vouched_for(issuer, endpoint, url):
        raise BadRegistrationRequest(
            _l("The platform's configuration names the issuer %(issuer)s but its registration "
               "endpoint is %(endpoint)s and the configuration came from %(url)s. They must be "
               "on one site (scheme and domain), so the registration was refused. Start it "
               "from the LMS itself, not from a link someone sent you.", issuer=issuer,
               endpoint=endpoint, url=url),
            detail=f"issuer/endpoint site mismatch: {issuer} {endpoint} {url}",
        )
    algorithms = raw.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and "RS256" not in algorithms:
        raise PlatformFailed(_l("The platform does not sign id_tokens with RS256."))
    return PlatformConfiguration(
        url=url,
        issuer=issuer,
        authorization_endpoint=_text(raw, "authorization_endpoint"),
        token_endpoint=_text(raw, "token_endpoint"),
        jwks_uri=_text(raw, "jwks_uri"),
        registration_endpoint=endpoint,
        authorization_server=_text(raw, "authorization_server") or None,
        product=_text(lti, "product_family_code"),
        version=_text(lti, "version"),
        account_name=_text(lti, CANVAS + "account_name"),
    )


def read_configuration(url: str | None, token: str | None) -> PlatformConfiguration:
    """The platform's configuration, checked; raises a RegistrationError subclass."""
    flow = ToolRegistration(check_url(url, _l("openid_configuration address")), token)
    flow.get_openid_configuration()
    assert flow.configuration is not None
    return flow.configuration


def registration_request() -> dict[str, Any]:
    """The client registration the tool posts (shown to the administrator beforehand)."""
    return ToolRegistration("", None).lti_registration_data()


def register(configuration: PlatformConfiguration, token: str | None) -> RegistrationOutcome:
    """Post the tool's registration and store the result; the caller commits."""
    flow = ToolRegistration(configuration.url, token, expected_issuer=configuration.issuer)
    try:
        return flow.register()
    except LtiServiceException as exc:
        response = exc.response
        raise PlatformFailed(
            _l("The platform refused the registration with HTTP %(status)d: %(answer)s%(hint)s",
               status=response.status_code, answer=_platform_message(response),
               hint=_token_hint(response.status_code)),
            detail=f"registration HTTP {response.status_code}: {response.text[:300]}",
            status=response.status_code,
        ) from exc
    except requests.Timeout as exc:
        raise PlatformFailed(
            _l("The platform did not answer the registration within %(seconds)s seconds.",
               seconds=f"{flow.timeout:g}"),
            detail=f"timeout: {exc}",
        ) from exc
    except requests.RequestException as exc:
        raise PlatformFailed(
            _l("The platform's registration endpoint could not be reached."),
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    except (LtiException, AssertionError) as exc:
        # pylti1p3 checks the answer's shape with assert statements.
        raise PlatformFailed(
            _l("The platform's answer to the registration is not an LTI tool configuration."),
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc


def _platform_message(response: requests.Response) -> str:
    """The platform's own words: an OAuth error description, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        words = body.get("error_description") or body.get("error") or body.get("message")
        if isinstance(words, str) and words:
            return words[:300]
    return response.text.strip()[:300] or str(_l("(no explanation)"))


def store_platform(
    configuration: PlatformConfiguration, client_id: str, deployment_id: str | None
) -> tuple[Platform, bool]:
    """Create or update the Platform for (issuer, client id) and add the Deployment."""
    platform = db.session.scalar(
        select(Platform).where(
            Platform.issuer == configuration.issuer, Platform.client_id == client_id
        )
    )
    created = platform is None
    if platform is None:
        platform = Platform(issuer=configuration.issuer, client_id=client_id,
                            name=configuration.label)
        db.session.add(platform)
    platform.auth_login_url = configuration.authorization_endpoint
    platform.auth_token_url = configuration.token_endpoint
    platform.key_set_url = configuration.jwks_uri
    # LTI DR: the authorization server, when named, is the audience of client assertions.
    audience = configuration.authorization_server
    if audience == configuration.token_endpoint:
        audience = None
    platform.auth_audience = audience
    if deployment_id and not any(d.deployment_id == deployment_id for d in platform.deployments):
        platform.deployments.append(Deployment(deployment_id=deployment_id))
    db.session.flush()
    log.info("dynamic registration %s: %s client id %s deployment %s",
             "created" if created else "updated", configuration.issuer, client_id,
             deployment_id or "(none yet)")
    return platform, created
