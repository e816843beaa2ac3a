"""The HTTP session the tool talks to platforms with."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lti_tool.lti.services import PlatformSession


def test_proxies_and_ca_bundle_from_the_environment_still_apply(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "lms.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/campus.pem")
    session = PlatformSession(5)

    for _ in range(2):  # the second answer comes from what the first found
        outside = session.merge_environment_settings(
            "https://lms.example/ags/scores", {}, None, None, None)
        assert outside["proxies"]["https"] == "http://proxy.example:3128"
        assert outside["verify"] == "/etc/ssl/campus.pem"
        inside = session.merge_environment_settings(
            "https://lms.internal/ags/scores", {}, None, None, None)
        assert "https" not in inside["proxies"]


def test_settings_given_with_a_call_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/campus.pem")
    session = PlatformSession(5)
    session.merge_environment_settings("https://lms.example/x", {}, None, None, None)

    assert session.merge_environment_settings(
        "https://lms.example/x", {}, None, False, None)["verify"] is False


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 and notes the Authorization header of each request; a request for
    /elsewhere is redirected to the other server's /landed."""

    seen: list[str | None] = []
    redirect_to = ""

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).seen.append(self.headers.get("Authorization"))
        if self.path == "/elsewhere":
            self.send_response(302)
            self.send_header("Location", type(self).redirect_to)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def _server(name: str):
    handler = type(name, (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def netrc_for_loopback(tmp_path, monkeypatch):
    """A ~/.netrc (through $NETRC) with a login for 127.0.0.1 and for localhost."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login admin password campus-secret\n"
                     "machine localhost login admin password campus-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


def test_a_netrc_login_for_the_platform_never_replaces_the_service_token(netrc_for_loopback):
    with _server("Platform") as (url, platform):
        PlatformSession(5).get(url + "/ags/lineitems",
                               headers={"Authorization": "Bearer service-token"})
        PlatformSession(5).get(url + "/nrps/memberships")

    assert platform.seen == ["Bearer service-token", None]


def test_a_redirect_to_another_host_drops_the_token_and_sends_no_netrc_login(netrc_for_loopback):
    with _server("Other") as (other_url, other), _server("Platform") as (url, platform):
        platform.redirect_to = other_url.replace("127.0.0.1", "localhost") + "/landed"
        PlatformSession(5).get(url + "/elsewhere",
                               headers={"Authorization": "Bearer service-token"})

    assert platform.seen == ["Bearer service-token"]
    assert other.seen == [None]
