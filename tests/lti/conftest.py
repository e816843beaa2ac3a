"""Fixtures for registration, rotation and isolation: more development platforms, each with
its own issuer, key and store, served live on a port of its own."""

from __future__ import annotations

import pytest

from tests.conftest import register
from tests.conftest import start_platform as serve_platform
from tests.launch_driver import LaunchDriver


@pytest.fixture(autouse=True)
def _forget_frame_origins(app):
    """Tests here register other platforms; the tool caches the origins allowed to frame it
    for a minute, so drop that cache after each test, or later tests see these platforms."""
    yield
    app.extensions.pop("frame_origins", None)


@pytest.fixture
def start_platform(app, tool_server, tmp_path):
    """A factory: start_platform("name", registered=True, **settings) -> a running DevPlatform.

    Every platform seeds course "2" with learners 4, 5, ... so that two of them share
    context ids and subs, as two independent Moodle sites do.
    """
    servers = []
    tool_url = tool_server.url

    def start(name: str, *, registered: bool = True, **settings):
        server, platform = serve_platform(tmp_path, tool_url, name, **{"LEARNERS": 6, **settings})
        servers.append(server)
        if registered:
            register(app, platform)
        return platform

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def driver_for(tool_server):
    """A factory: a LaunchDriver for any development platform."""
    return lambda platform: LaunchDriver(tool_server.url, platform)
