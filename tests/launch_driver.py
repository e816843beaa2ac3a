"""A browser stand-in that launches the tool through the development platform over HTTP.

It does what a browser does with Moodle's auto-submitting forms: post the platform's login
form to the tool, follow the tool's redirect to the platform's auth endpoint, and post the
id_token the platform answers with back to the tool, with the state cookie the tool set.
A test may tamper with the id_token between the last two steps to forge a launch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests

Mutator = Callable[[dict[str, Any], dict[str, Any]], None]
#: The tool renders a learner's landing page as the launch's own answer and names the page's
#: own address in this meta element (its script puts it in the address bar).
LANDING_META = 'name="lti-landing-url"'


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action")
        elif tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value") or ""


class _LandingParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.url: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and values.get("name") == "lti-landing-url":
            self.url = values.get("content")


class _StorageDataParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id") == "lti-storage":
            self.data = {k[5:]: v or "" for k, v in values.items() if k.startswith("data-")}


def storage_page_data(html: str) -> dict[str, str]:
    """The data-* attributes of the tool's Platform Storage page (#lti-storage), without
    the "data-" prefix; empty when the page is another one."""
    parser = _StorageDataParser()
    parser.feed(html)
    return parser.data


def landed(response: requests.Response) -> bool:
    """A launch's answer when the tool accepted it: a redirect to the landing page (303), or
    the landing page itself (200, naming its own address)."""
    return response.status_code == 303 or (
        response.status_code == 200 and LANDING_META in response.text)


def landing_url_of(response: requests.Response) -> str:
    """The landing page's address in an accepted launch's answer."""
    if response.status_code == 200:
        parser = _LandingParser()
        parser.feed(response.text)
        assert parser.url, response.text[:2000]
        return parser.url
    assert response.status_code == 303, response.text[:2000]
    return response.headers["Location"]


def parse_form(html: str) -> tuple[str, dict[str, str]]:
    """The first form's action and its input fields."""
    parser = _FormParser()
    parser.feed(html)
    assert parser.action, f"no form in page: {html[:300]}"
    return parser.action, parser.fields


@dataclass
class LaunchAttempt:
    """What happened at each step of one launch."""

    login_response: requests.Response
    auth_response: requests.Response | None = None
    launch_response: requests.Response | None = None
    state: str | None = None
    id_token: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    #: The platform's login-initiation fields this launch began with.
    login_fields: dict[str, str] = field(default_factory=dict)

    @property
    def auth_url(self) -> str:
        """Where the tool's login sends the browser: its 302, or its Platform Storage page,
        which goes there from script (the driver is the one that "runs" it)."""
        response = self.login_response
        if response.status_code == 302:
            return response.headers["Location"]
        data = storage_page_data(response.text) if response.status_code == 200 else {}
        assert "auth-url" in data, f"login answered {response.status_code}: {response.text[:2000]}"
        return data["auth-url"]

    @property
    def landing_url(self) -> str:
        """The landing page's address: where the tool sent the browser after the launch, or
        the address of the landing page the launch answered with itself."""
        assert self.launch_response is not None
        return landing_url_of(self.launch_response)

    @property
    def landed(self) -> bool:
        """The launch was accepted: a redirect to the landing page, or the page itself."""
        return self.launch_response is not None and landed(self.launch_response)

    def landing_response(self, driver: LaunchDriver) -> requests.Response:
        """The landing page as the browser shows it after the launch: the launch's own
        answer when the tool renders it there, else the page its redirect names."""
        assert self.launch_response is not None
        if self.launch_response.status_code == 200 and LANDING_META in self.launch_response.text:
            return self.launch_response
        return driver.open(self)

    @property
    def token(self) -> str:
        """The launch-session token carried in the landing URL."""
        return parse_qs(urlsplit(self.landing_url).query)["lt"][0]


class LaunchDriver:
    """Launch the tool as a user of the development platform."""

    def __init__(self, tool_url: str, platform: Any) -> None:
        self.tool_url = tool_url
        self.platform = platform
        self.http = requests.Session()

    def login(self, user_id: str, *, login_url: str | None = None, **kwargs: Any) -> LaunchAttempt:
        """Post the platform's login-initiation form to the tool."""
        url, fields = self.platform.initiate_login_form(user_id, **kwargs)
        response = self.http.post(login_url or url, data=fields, allow_redirects=False)
        attempt = LaunchAttempt(login_response=response, login_fields=dict(fields))
        # requests keeps Secure cookies for https only; a browser sends them to localhost
        # and 127.0.0.1 too, so carry the state cookie by hand.
        attempt.cookies = {c.name: c.value for c in response.cookies}
        return attempt

    def authorize(self, attempt: LaunchAttempt) -> LaunchAttempt:
        """Follow the tool's redirect to the platform's auth endpoint (Canvas's sends the
        browser on to the school's host)."""
        response = self.http.get(attempt.auth_url)
        attempt.auth_response = response
        assert response.status_code == 200, response.text[:2000]
        action, fields = parse_form(response.text)
        attempt.id_token, attempt.state = fields["id_token"], fields["state"]
        attempt.launch_action = action
        return attempt

    def forge(self, id_token: str, mutate: Mutator) -> str:
        """Re-sign the id_token with the platform's key after `mutate(claims, header)`."""
        claims = jwt.decode(id_token, options={"verify_signature": False})
        header = jwt.get_unverified_header(id_token)
        mutate(claims, header)
        return self.platform.sign_jwt(claims, headers=header)

    def post_launch(
        self, attempt: LaunchAttempt, *, id_token: str | None = None,
        state: str | None = None, cookies: dict[str, str] | None = None,
        launch_url: str | None = None, headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Post id_token and state to the tool's launch URL, as the platform's form does."""
        response = requests.post(
            launch_url or attempt.launch_action,
            data={"id_token": id_token or attempt.id_token, "state": state or attempt.state},
            cookies=attempt.cookies if cookies is None else cookies,
            headers=headers, allow_redirects=False,
        )
        attempt.launch_response = response
        return response

    def launch(self, user_id: str, mutate: Mutator | None = None, **kwargs: Any) -> LaunchAttempt:
        """A whole launch; `mutate` forges the id_token before it reaches the tool."""
        attempt = self.authorize(self.login(user_id, **kwargs))
        token = self.forge(attempt.id_token, mutate) if mutate else attempt.id_token
        self.post_launch(attempt, id_token=token)
        return attempt

    def open(self, attempt: LaunchAttempt) -> requests.Response:
        """Follow the launch to its landing page."""
        return requests.get(urljoin(self.tool_url, attempt.landing_url), allow_redirects=False)

    def user(self, role: str, index: int = 0) -> dict[str, Any]:
        """The platform's n-th user with this role ("Instructor", "Learner", or in Canvas
        "Mentor", an observer)."""
        return [u for u in self.platform.users() if u["role"] == role][index]


def launch_refusals(caplog) -> list[str]:
    """The operator's 'launch refused (400): why' log lines captured by `caplog`."""
    return [r.getMessage() for r in caplog.records
            if r.name == "lti_tool.lti.views" and " refused (" in r.getMessage()]


def alert_text(response: requests.Response) -> str:
    """The error page's alert as the person reads it (tags' entities unescaped)."""
    found = re.search(r'<p class="alert alert-danger" role="alert">(.*?)</p>', response.text,
                      re.S)
    assert found, response.text[:3000]
    return unescape(found.group(1))
