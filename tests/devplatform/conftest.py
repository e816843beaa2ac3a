"""Fixtures for the development platform tests: a fake tool, the platform app and its handles."""

from __future__ import annotations

import pytest
from devplatform_testkit import FakeTool, platform_settings

from lti_tool.devplatform import create_platform_app
from lti_tool.devplatform.server import serve_in_thread


@pytest.fixture(scope="session")
def fake_tool():
    """One fake tool for the session (key generation is the slow part)."""
    tool = FakeTool()
    yield tool
    tool.stop()


@pytest.fixture
def platform_app(tmp_path, fake_tool):
    """A fresh platform (own key, own store) with 12 learners in course 2."""
    return create_platform_app(platform_settings(tmp_path, fake_tool))


@pytest.fixture
def devplatform(platform_app):
    """The DevPlatform handle of platform_app."""
    return platform_app.extensions["devplatform"]


@pytest.fixture
def web(platform_app):
    """A test client for platform_app."""
    return platform_app.test_client()


@pytest.fixture
def live_platform(tmp_path, fake_tool):
    """The platform served over HTTP on 127.0.0.1 from a thread."""
    settings = platform_settings(tmp_path, fake_tool)
    del settings["ISSUER"]
    running = serve_in_thread(settings)
    yield running
    running.stop()
