"""Fixtures for registration, rotation and isolation: more development platforms, each with
its own issuer, key and store, served live on a port of its own."""

from __future__ import annotations

import pytest

from lti_tool.devplatform import create_platform_app
from tests.conftest import LiveServer, register
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
        server = LiveServer("127.0.0.1", "localhost")
        platform_app = create_platform_app({
            "ISSUER": server.url,
            "DATA_DIR": str(tmp_path / name),
            "LEARNERS": 6,
            "TOOL": {
                "client_id": f"dmd-{name}",
                "deployment_id": "1",
                "login_url": tool_url + "/lti/login",
                "redirect_uris": [tool_url + "/lti/launch"],
                "target_link_uri": tool_url + "/lti/launch",
                "jwks_url": tool_url + "/lti/jwks",
            },
            **settings,
        })
        server.serve(platform_app)
        servers.append(server)
        platform = platform_app.extensions["devplatform"]
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
