"""Fixtures: one database per test session, emptied before each test; live servers for the
tool (127.0.0.1) and the development platform (localhost: another site, as a real LMS is).

Set DATABASE_URL to run everything on PostgreSQL; otherwise a temporary SQLite file.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

# Never read a developer's instance/config.toml: every setting comes from the fixtures.
os.environ["LTI_TOOL_CONFIG"] = str(Path(tempfile.gettempdir()) / "dmd-no-config.toml")

from lti_tool import create_app  # noqa: E402
from lti_tool.devplatform import create_platform_app  # noqa: E402
from lti_tool.extensions import db  # noqa: E402
from tests.launch_driver import LaunchDriver  # noqa: E402

TEST_SECRET = "test-secret-key-that-is-long-enough-for-the-checks"


class LiveServer:
    """A WSGI app served from a thread on a free port, its URL known before the app exists."""

    def __init__(self, bind: str, hostname: str) -> None:
        self.app = None
        self.server = make_server(bind, 0, self._dispatch, threaded=True)
        self.url = f"http://{hostname}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def serve(self, app) -> None:
        """Start answering with this app."""
        self.app = app
        self.thread.start()

    def stop(self) -> None:
        """Stop the server thread."""
        self.server.shutdown()


def _database_url(tmp: Path) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'test.sqlite3'}"


def _fresh_schema(app) -> None:
    """Drop whatever a previous run left, then build the schema by running the migrations."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()


@pytest.fixture(scope="session")
def tmp_root():
    """A temporary folder for the session's database, keys and platform data."""
    with tempfile.TemporaryDirectory(prefix="dmd-tests-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def tool_server():
    """The live tool server (the app is attached by the `app` fixture)."""
    server = LiveServer("127.0.0.1", "127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app(tool_server, tmp_root):
    """The tool, served live and used directly by tests (pytest-flask's `app`)."""
    app = create_app(
        {
            "ENV": "test",
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "TOOL_URL": tool_server.url,
            "SQLALCHEMY_DATABASE_URI": _database_url(tmp_root),
            "KEYS_DIR": str(tmp_root / "keys"),
            "LOG_LEVEL": "WARNING",
        }
    )
    _fresh_schema(app)
    tool_server.serve(app)
    return app


@pytest.fixture(scope="session")
def _tool_key(app):
    """One signing key for the whole session (RSA generation is slow); rows are re-added."""
    from lti_tool.lti import keys

    with app.app_context():
        pair = keys.generate_key()
        db.session.commit()
        return {"kid": pair.kid, "public_jwk": pair.public_jwk}


def _empty_tables(app) -> None:
    from sqlalchemy import text

    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
def _clean_database(app, _tool_key):
    """Every test starts from empty tables holding only the tool's key."""
    from lti_tool.lti.models import KeyPair

    _empty_tables(app)
    app.extensions.pop("lti_store", None)
    app.extensions.pop("frame_origins", None)
    app.extensions.pop("lti_registry", None)  # registrations and keys kept in memory
    with app.app_context():
        db.session.add(KeyPair(**_tool_key))
        db.session.commit()
    yield
    with app.app_context():
        db.session.remove()


#: The LMSs the development platform plays; journeys that matter run against each.
PROFILES = ("moodle", "canvas")


def start_platform(data_root: Path, tool_url: str, name: str, **extra) -> tuple[LiveServer, object]:
    """A development platform named `name`, served live and set up for this tool
    (PROFILE="canvas" in `extra` for a Canvas school)."""
    server = LiveServer("127.0.0.1", "localhost")
    platform_app = create_platform_app(
        {
            "ISSUER": server.url,
            "DATA_DIR": str(data_root / name),
            "LEARNERS": 30,
            "TOOL": {
                "client_id": f"dmd-{name}",
                "deployment_id": "1",
                "login_url": tool_url + "/lti/login",
                "redirect_uris": [tool_url + "/lti/launch"],
                "target_link_uri": tool_url + "/lti/launch",
                "jwks_url": tool_url + "/lti/jwks",
            },
            **extra,
        }
    )
    server.serve(platform_app)
    return server, platform_app.extensions["devplatform"]


@pytest.fixture(scope="session")
def _platform_session(app, tool_server, tmp_root):
    server, platform = start_platform(tmp_root, tool_server.url, "platform")
    yield platform
    server.stop()


@pytest.fixture(scope="session")
def _canvas_platform_session(app, tool_server, tmp_root):
    server, platform = start_platform(tmp_root, tool_server.url, "canvas", PROFILE="canvas")
    yield platform
    server.stop()


@pytest.fixture
def profile() -> str:
    """The LMS the `platform` plays; a test runs against both with
    ``@pytest.mark.parametrize("profile", PROFILES)``."""
    return "moodle"


def register(app, platform) -> None:
    """Register a development platform with the tool, as `flask platforms add` would."""
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "platforms", "add", "--issuer", platform.issuer, "--client-id", platform.client_id,
            "--auth-login-url", platform.auth_login_url,
            "--auth-token-url", platform.auth_token_url,
            "--key-set-url", platform.key_set_url, "--deployment", platform.deployment_id,
        ]
    )
    assert result.exit_code == 0, result.output
    # The tool caches who may frame it for a minute; a request that came between the
    # emptied tables and this registration (a late icon fetch of the previous test's
    # browser) would leave the new platform out of frame-ancestors.
    app.extensions.pop("frame_origins", None)


@pytest.fixture
def platform(app, request, profile):
    """The development platform in the test's profile, registered with the tool, switches
    reset."""
    session = request.getfixturevalue(
        "_canvas_platform_session" if profile == "canvas" else "_platform_session"
    )
    session.settings.clear()
    session.settings.update(session.default_settings())
    register(app, session)
    return session


@pytest.fixture
def driver(tool_server, platform):
    """Drives launches through the development platform over HTTP, as a browser would."""
    return LaunchDriver(tool_server.url, platform)
