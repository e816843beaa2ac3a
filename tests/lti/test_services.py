"""The HTTP session the tool talks to platforms with."""

from __future__ import annotations

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
