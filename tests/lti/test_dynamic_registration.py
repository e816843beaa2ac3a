"""LTI Dynamic Registration: against the development platform end to end, and against a fake
platform for every way a registration can go wrong."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask, jsonify, request
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Deployment, Platform, utcnow
from lti_tool.lti import registration
from lti_tool.lti.invitations import RegistrationInvitation
from tests.conftest import PROFILES, LiveServer
from tests.launch_driver import parse_form

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


@pytest.fixture
def registration_log(caplog, monkeypatch):
    """The views' log lines (the test session's Alembic logging config disables the logger)."""
    monkeypatch.setattr(logging.getLogger("lti_tool.lti.views"), "disabled", False)
    caplog.set_level(logging.INFO, logger="lti_tool.lti.views")
    return caplog


def invite(app, *args: str) -> str:
    """`flask platforms invite`: the registration URL it prints."""
    result = app.test_cli_runner().invoke(args=["platforms", "invite", *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[0].strip()


def open_registration(url: str) -> requests.Response:
    """What the platform's registration frame loads."""
    return requests.get(url, allow_redirects=False, timeout=30)


def confirm(tool_url: str, page: requests.Response) -> requests.Response:
    """Press Register on the confirmation page."""
    action, fields = parse_form(page.text)
    return requests.post(urljoin(tool_url, action), data=fields, allow_redirects=False,
                         timeout=30)


def platforms(app) -> list[Platform]:
    with app.app_context():
        rows = db.session.scalars(select(Platform).order_by(Platform.id)).all()
        for row in rows:
            _ = [d.deployment_id for d in row.deployments]
        return rows


@pytest.mark.parametrize("profile", PROFILES)
def test_dynamic_registration_end_to_end(app, tool_server, start_platform, driver_for, profile,
                                         monkeypatch):
    platform = start_platform("dynreg-" + profile, registered=False, PROFILE=profile)
    if profile == "canvas":
        # Canvas signs as canvas.instructure.com; the school registers from its own host.
        monkeypatch.setitem(app.config, "REGISTRATION_ISSUER_SITES",
                            {platform.issuer: [platform.canvas_hosts.school]})
    invite_url = invite(app)
    assert invite_url.startswith(tool_server.url + "/lti/register?invite=")

    page = open_registration(platform.start_dynamic_registration(invite_url))
    assert page.status_code == 200, page.text
    assert platform.issuer in page.text and "Register" in page.text
    # The platform frames this page before it is registered: its origin must be allowed.
    assert platform.issuer in page.headers["Content-Security-Policy"]
    assert platforms(app) == []  # showing the page registers nothing

    done = confirm(tool_server.url, page)
    assert done.status_code == 200, done.text
    assert "is registered" in done.text
    assert platform.client_id != f"dmd-dynreg-{profile}"
    assert platform.client_id in done.text
    # Closing goes through an external script: no inline script on the page.
    assert 'src="/static/js/registration.js"' in done.text and "<script>" not in done.text
    assert "data-lti-close" in done.text

    [stored] = platforms(app)
    assert (stored.issuer, stored.client_id) == (platform.issuer, platform.client_id)
    assert stored.auth_login_url == platform.auth_login_url
    assert stored.auth_token_url == platform.auth_token_url
    assert stored.key_set_url == platform.key_set_url
    # Moodle answers with the deployment (its tool type id); Canvas names none: the app is
    # installed afterwards, and its first launch tells the tool which deployment it is.
    expected = ["2"] if profile == "moodle" else []
    assert [d.deployment_id for d in stored.deployments] == expected

    driver = driver_for(platform)
    attempt = driver.launch(driver.user("Learner")["id"])
    assert "/questionnaire/" in attempt.landing_url
    assert driver.open(attempt).status_code == 200
    [stored] = platforms(app)
    assert [d.deployment_id for d in stored.deployments] == [platform.deployment_id]


def test_a_canvas_school_on_its_own_domain_needs_to_be_listed(app, tool_server, start_platform):
    platform = start_platform("dynreg-unlisted", registered=False, PROFILE="canvas")
    page = open_registration(platform.start_dynamic_registration(invite(app)))
    assert page.status_code == 400
    assert "must be on one site" in page.text
    assert platforms(app) == []


def test_what_the_tool_posts_meets_moodles_rules(app, tool_server):
    with app.test_request_context():
        body = registration.registration_request()
    tool = body[TOOL_CONFIGURATION]
    assert body["response_types"] == ["id_token"]
    assert body["grant_types"] == ["implicit", "client_credentials"]
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["redirect_uris"] == [tool_server.url + "/lti/launch"]
    assert body["initiate_login_uri"] == tool_server.url + "/lti/login"
    assert body["jwks_uri"] == tool_server.url + "/lti/jwks"
    assert body["logo_uri"] == tool_server.url + "/static/img/logo.svg"
    assert body["client_name"] == app.config["TOOL_NAME"]
    assert set(body["scope"].split()) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    }
    assert tool["domain"] == tool_server.url.removeprefix("http://")
    assert tool["target_link_uri"] == tool_server.url + "/lti/launch"
    assert tool["claims"] == ["iss", "sub", "name", "given_name", "family_name", "email"]
    messages = {m["type"]: m for m in tool["messages"]}
    assert messages["LtiResourceLinkRequest"]["placements"] == ["course_navigation"]
    assert messages["LtiDeepLinkingRequest"]["placements"] == [
        "assignment_selection", "link_selection"]
    assert all(m["label"] for m in messages.values())
    assert tool["https://canvas.instructure.com/lti/privacy_level"] == "name_only"
    assert requests.get(body["logo_uri"], timeout=10).status_code == 200


def test_a_registration_token_is_usable_once(app, tool_server, start_platform):
    platform = start_platform("once", registered=False)
    page = open_registration(platform.start_dynamic_registration(invite(app)))
    assert confirm(tool_server.url, page).status_code == 200

    # The same token again, with a fresh invitation: the platform refuses it.
    second_invite = invite(app)
    _, fields = parse_form(page.text)
    fields["invite"] = second_invite.split("invite=")[1]
    again = requests.post(tool_server.url + "/lti/register", data=fields, timeout=30)
    assert again.status_code == 502
    assert "registration token" in again.text and "already used" in again.text
    assert len(platforms(app)) == 1
    # The refused attempt did not use up the second invitation.
    with app.app_context():
        unused = db.session.scalars(
            select(RegistrationInvitation).where(RegistrationInvitation.used_dt.is_(None))
        ).all()
    assert len(unused) == 1


class FakePlatform:
    """A platform that answers what a test tells it to, and counts registration posts."""

    def __init__(self) -> None:
        self.server = LiveServer("127.0.0.1", "localhost")
        self.url = self.server.url
        self.configuration: dict = {}
        self.config_status = 200
        self.config_body: str | None = None
        self.delay = 0.0
        self.registration_status = 200
        self.posts: list[dict] = []
        #: How many times the tool asked for the configuration.
        self.config_fetches = 0
        app = Flask("fake_platform")

        @app.get("/config")
        @app.get("/config2")
        def config():
            self.config_fetches += 1
            time.sleep(self.delay)
            if self.config_body is not None:
                return self.config_body, self.config_status
            return jsonify(self.configuration), self.config_status

        @app.post("/register")
        def register():
            self.posts.append(request.get_json())
            if self.registration_status != 200:
                return jsonify(error="server_error", error_description="database is down"), \
                    self.registration_status
            return jsonify({"client_id": "fake-client",
                            TOOL_CONFIGURATION: {"deployment_id": "9"}})

        self.server.serve(app)
        self.configuration = self.valid_configuration()

    def valid_configuration(self, issuer: str | None = None) -> dict:
        return {
            "issuer": issuer or self.url,
            "authorization_endpoint": self.url + "/auth",
            "token_endpoint": self.url + "/token",
            "jwks_uri": self.url + "/jwks",
            "registration_endpoint": self.url + "/register",
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "fake", "version": "1"},
        }

    def start_url(self, invite_url: str) -> str:
        return f"{invite_url}&openid_configuration={self.url}/config&registration_token=t"


@pytest.fixture
def fake_platform():
    fake = FakePlatform()
    yield fake
    fake.server.stop()


def test_the_fake_platform_registers_when_all_is_well(app, tool_server, fake_platform):
    page = open_registration(fake_platform.start_url(invite(app)))
    assert page.status_code == 200, page.text
    done = confirm(tool_server.url, page)
    assert done.status_code == 200, done.text
    assert fake_platform.posts and len(fake_platform.posts) == 1
    [stored] = platforms(app)
    assert stored.client_id == "fake-client" and stored.name == "Fake at " + \
        fake_platform.url.removeprefix("http://")


def test_an_issuer_on_another_site_than_the_registration_endpoint_is_refused(
    app, tool_server, fake_platform, platform, registration_log
):
    # A configuration that claims to be a registered platform, served from elsewhere:
    # registering it would make the tool trust keys from the wrong site.
    fake_platform.configuration = fake_platform.valid_configuration(issuer=platform.issuer)
    page = open_registration(fake_platform.start_url(invite(app)))
    assert page.status_code == 400
    assert "must be on one site" in page.text
    assert "site mismatch" in registration_log.text
    assert fake_platform.posts == []
    [only] = platforms(app)
    assert only.client_id == platform.client_id  # the registered platform is untouched


def test_a_configuration_url_on_another_site_than_the_issuer_is_refused(
    app, fake_platform
):
    configuration = fake_platform.valid_configuration(issuer="http://127.0.0.1:9")
    configuration["registration_endpoint"] = "http://127.0.0.1:9/register"
    fake_platform.configuration = configuration
    page = open_registration(fake_platform.start_url(invite(app)))
    assert page.status_code == 400 and "must be on one site" in page.text


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda fake: setattr(fake, "config_status", 500), "answered HTTP 500"),
        (lambda fake: setattr(fake, "config_status", 401), "refused the registration token"),
        (lambda fake: setattr(fake, "config_body", "<html>login</html>"), "not a JSON object"),
        (lambda fake: fake.configuration.pop(
            "https://purl.imsglobal.org/spec/lti-platform-configuration"),
         "not an LTI platform configuration"),
        (lambda fake: fake.configuration.pop("token_endpoint"), "lacks token_endpoint"),
    ],
)
def test_a_bad_configuration_gets_a_502_page(app, fake_platform, change, words,
                                             registration_log):
    change(fake_platform)
    page = open_registration(fake_platform.start_url(invite(app)))
    assert page.status_code == 502
    assert words in page.text
    assert "dynamic registration refused (502)" in registration_log.text
    assert fake_platform.posts == [] and platforms(app) == []


def test_a_platform_that_does_not_answer_in_time_gets_a_502_page(app, fake_platform,
                                                                  monkeypatch):
    monkeypatch.setitem(app.config, "HTTP_TIMEOUT_SECONDS", 1)
    fake_platform.delay = 3
    started = time.monotonic()
    page = open_registration(fake_platform.start_url(invite(app)))
    assert page.status_code == 502 and "within 1 seconds" in page.text
    assert time.monotonic() - started < 3


def test_a_platform_error_on_registration_releases_the_invitation(app, tool_server,
                                                                   fake_platform):
    invite_url = invite(app)
    page = open_registration(fake_platform.start_url(invite_url))
    fake_platform.registration_status = 500
    failed = confirm(tool_server.url, page)
    assert failed.status_code == 502
    assert "HTTP 500" in failed.text and "database is down" in failed.text
    assert platforms(app) == []
    # The administrator may try again with the same invitation.
    fake_platform.registration_status = 200
    assert confirm(tool_server.url, page).status_code == 200
    assert len(platforms(app)) == 1


def test_without_an_invitation_the_page_says_what_to_do(tool_server, fake_platform):
    url = fake_platform.start_url(tool_server.url + "/lti/register?x=1")
    page = open_registration(url)
    assert page.status_code == 403
    assert "flask platforms invite" in page.text
    assert fake_platform.posts == []


def test_an_unknown_invitation_is_refused(tool_server, fake_platform):
    page = open_registration(fake_platform.start_url(tool_server.url + "/lti/register?invite=no"))
    assert page.status_code == 403 and "not known" in page.text


def test_an_expired_invitation_is_refused(app, fake_platform):
    invite_url = invite(app, "--expires-hours", "1")
    with app.app_context():
        row = db.session.scalar(select(RegistrationInvitation))
        row.expires_dt = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = open_registration(fake_platform.start_url(invite_url))
    assert page.status_code == 403 and "expired" in page.text


def test_a_used_invitation_is_refused(app, tool_server, fake_platform):
    invite_url = invite(app)
    assert confirm(tool_server.url, open_registration(fake_platform.start_url(invite_url)))\
        .status_code == 200
    page = open_registration(fake_platform.start_url(invite_url))
    assert page.status_code == 403 and "already used" in page.text
    with app.app_context():
        row = db.session.scalar(select(RegistrationInvitation))
        assert row.used_by == fake_platform.url


def test_invitations_are_stored_hashed(app):
    code = invite(app).split("invite=")[1]
    with app.app_context():
        row = db.session.scalar(select(RegistrationInvitation))
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert timedelta(hours=71) < row.expires_dt - utcnow() <= timedelta(hours=72)


def test_open_mode_needs_no_invitation(app, tool_server, fake_platform, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "open")
    page = open_registration(fake_platform.start_url(tool_server.url + "/lti/register?x=1"))
    assert page.status_code == 200
    assert confirm(tool_server.url, page).status_code == 200


def test_allowlist_mode_refuses_other_issuers_before_fetching(app, tool_server, fake_platform,
                                                              monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "allowlist")
    monkeypatch.setitem(app.config, "REGISTRATION_ALLOWED_ISSUERS", ["https://moodle.example.edu"])
    fake_platform.delay = 5  # a fetch would make the test slow
    started = time.monotonic()
    page = open_registration(fake_platform.start_url(tool_server.url + "/lti/register?x=1"))
    assert page.status_code == 403 and "REGISTRATION_ALLOWED_ISSUERS" in page.text
    assert time.monotonic() - started < 4


def test_allowlist_mode_accepts_a_listed_issuer(app, tool_server, fake_platform, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "allowlist")
    monkeypatch.setitem(app.config, "REGISTRATION_ALLOWED_ISSUERS", [fake_platform.url + "/"])
    page = open_registration(fake_platform.start_url(tool_server.url + "/lti/register?x=1"))
    assert page.status_code == 200
    assert confirm(tool_server.url, page).status_code == 200


def test_the_registration_address_alone_explains_itself(client):
    page = client.get("/lti/register")
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "openid_configuration" in text and "flask --app lti_tool platforms invite" in text


def test_a_non_http_configuration_url_is_a_bad_request(app, client):
    with app.app_context():
        code = invite(app).split("invite=")[1]
    page = client.get(f"/lti/register?invite={code}&openid_configuration=file:///etc/passwd")
    assert page.status_code == 400


def test_registration_pages_use_no_inline_script(app, tool_server, fake_platform):
    page = open_registration(fake_platform.start_url(invite(app)))
    assert re.findall(r"<script[^>]*>", page.text) == [
        '<script src="/static/js/frame_resize.js" defer>',
        '<script src="/static/js/registration.js" defer>']
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_second_registration_of_the_same_client_updates_it(app, tool_server, fake_platform):
    confirm(tool_server.url, open_registration(fake_platform.start_url(invite(app))))
    fake_platform.configuration["jwks_uri"] = fake_platform.url + "/keys2"
    done = confirm(tool_server.url, open_registration(fake_platform.start_url(invite(app))))
    assert "existing registration was updated" in done.text
    [stored] = platforms(app)
    assert stored.key_set_url.endswith("/keys2")
    with app.app_context():
        assert db.session.scalar(select(Deployment).where(Deployment.deployment_id == "9"))


@pytest.mark.parametrize(
    "first, second, same",
    [
        # Hosted Canvas: one issuer for all, each school's endpoint on its own host.
        ("https://canvas.instructure.com", "https://school.instructure.com/api/lti/registrations",
         True),
        ("https://moodle.uni.ac.uk", "https://moodle.uni.ac.uk/mod/lti/openid-registration.php",
         True),
        ("https://moodle.uni.ac.uk", "https://evil.ac.uk/register", False),
        ("https://moodle.uni.edu", "https://moodle.uni.edu.evil.com/register", False),
        ("https://moodle.uni.edu", "http://moodle.uni.edu/register", False),
        ("http://localhost:5001", "http://localhost:5001/x", True),
        ("http://127.0.0.1:9", "http://127.0.0.1:8/x", False),
    ],
)
def test_same_site_is_scheme_and_registrable_domain(first, second, same):
    from lti_tool.lti.registration import same_site

    assert same_site(first, second) is same


def test_one_invitation_fetches_the_configuration_once(app, tool_server, fake_platform):
    """Opening the page again shows what was read the first time; registering posts without
    reading the configuration again."""
    start = fake_platform.start_url(invite(app))
    first = open_registration(start)
    assert first.status_code == 200, first.text
    again = open_registration(start)
    assert again.status_code == 200 and "Fake at" in again.text
    assert fake_platform.config_fetches == 1
    assert confirm(tool_server.url, again).status_code == 200
    assert fake_platform.config_fetches == 1 and len(fake_platform.posts) == 1
    assert len(platforms(app)) == 1


def test_an_invitation_that_read_one_configuration_reads_no_other(app, fake_platform,
                                                                   registration_log):
    invite_url = invite(app)
    assert open_registration(fake_platform.start_url(invite_url)).status_code == 200
    probe = open_registration(
        f"{invite_url}&openid_configuration={fake_platform.url}/config2&registration_token=t")
    assert probe.status_code == 403
    assert "already read" in probe.text and "flask platforms invite" in probe.text
    assert fake_platform.config_fetches == 1
    assert "dynamic registration refused (403)" in registration_log.text


def test_a_failed_fetch_uses_up_the_invitations_one_fetch(app, fake_platform):
    fake_platform.config_status = 500
    start = fake_platform.start_url(invite(app))
    assert open_registration(start).status_code == 502
    fake_platform.config_status = 200
    page = open_registration(start)
    assert page.status_code == 403 and "already read" in page.text
    assert fake_platform.config_fetches == 1


@pytest.fixture
def public_internet(app, monkeypatch):
    """Production's rule (no private hosts), and names that resolve as the test says."""
    import socket

    monkeypatch.setitem(app.config, "REGISTRATION_ALLOW_PRIVATE_HOSTS", False)
    answers = {"lms.example.edu": "93.184.216.34", "intranet.example.edu": "10.0.0.5",
               "rebind.example.edu": "169.254.169.254", "v6.example.edu": "fd00::1"}
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host in answers:
            family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port or 0))]
        if host == "nowhere.example.edu":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return answers


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/config", "http://localhost/config", "http://school.localhost:5001/c",
    "http://10.1.2.3/config", "http://172.16.0.1/config", "http://192.168.1.1/config",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/config", "http://[fe80::1]/c",
    "http://[::ffff:127.0.0.1]/config", "http://0.0.0.0/config", "http://224.0.0.1/config",
    "http://240.0.0.1/config", "http://100.64.0.1/config",
    "https://intranet.example.edu/config", "https://rebind.example.edu/config",
    "https://v6.example.edu/config",
])
def test_an_internal_address_is_refused(app, public_internet, url):
    with app.test_request_context():
        with pytest.raises(registration.BadRegistrationRequest) as refused:
            registration.check_url(url, "openid_configuration address")
    assert "not a public address" in str(refused.value.message)


def test_a_name_that_does_not_resolve_is_refused(app, public_internet):
    with app.test_request_context():
        with pytest.raises(registration.BadRegistrationRequest) as refused:
            registration.check_url("https://nowhere.example.edu/c", "openid_configuration address")
    assert "could not be resolved" in str(refused.value.message)


def test_a_public_address_is_accepted(app, public_internet):
    with app.test_request_context():
        url = "https://lms.example.edu/config"
        assert registration.check_url(url, "openid_configuration address") == url


def test_production_refuses_to_fetch_an_internal_configuration(app, tool_server, fake_platform,
                                                               public_internet):
    page = open_registration(fake_platform.start_url(invite(app)))
    assert page.status_code == 400 and "not a public address" in page.text
    assert fake_platform.config_fetches == 0


def test_a_configuration_naming_internal_endpoints_is_refused(app, fake_platform,
                                                              public_internet):
    """The tool later fetches the platform's keys and tokens: they must be public too."""
    fake_platform.configuration["jwks_uri"] = "http://169.254.169.254/latest/meta-data/"
    with app.test_request_context():
        with pytest.raises(registration.BadRegistrationRequest) as refused:
            registration.parse_configuration("https://lms.example.edu/config", {
                **fake_platform.configuration, "issuer": "https://lms.example.edu",
                "registration_endpoint": "https://lms.example.edu/register",
                "token_endpoint": "https://lms.example.edu/token",
                "authorization_endpoint": "https://lms.example.edu/auth"})
    assert "jwks_uri" in str(refused.value.message)


def test_private_hosts_are_allowed_only_outside_production(app):
    from lti_tool.config import load_config

    base = {"SECRET_KEY": "k" * 40, "TOOL_URL": "https://dmd.example.edu"}
    assert load_config({**base, "ENV": "production"})["REGISTRATION_ALLOW_PRIVATE_HOSTS"] is False
    assert load_config({**base, "ENV": "development"})["REGISTRATION_ALLOW_PRIVATE_HOSTS"] is True
    assert load_config({**base, "ENV": "production", "REGISTRATION_ALLOW_PRIVATE_HOSTS": True})[
        "REGISTRATION_ALLOW_PRIVATE_HOSTS"] is True
    assert app.config["REGISTRATION_ALLOW_PRIVATE_HOSTS"] is True
