"""Fixtures: one database per test session, emptied before each test; live servers for the
tool (127.0.0.1) and the development platform (localhost: another site, as a real LMS is).

The suite's database comes only from TEST_DATABASE_URL (PostgreSQL, its schema is dropped
and rebuilt) and must name a database whose name contains "test"; otherwise a temporary
SQLite file. The application's own DATABASE_URL is never read here, and is removed from the
environment so that no server the tests start can reach the database it names.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

# Never read a developer's instance/config.toml: every setting comes from the fixtures.
os.environ["LTI_TOOL_CONFIG"] = str(Path(tempfile.gettempdir()) / "dmd-no-config.toml")
# Nor the application's database: the suite drops the schema of the one it uses.
os.environ.pop("DATABASE_URL", None)

if "mutmut" in sys.modules:
    # `make mutation` runs the code through mutmut's trampolines: slower, which is no fault.
    from hypothesis import HealthCheck, settings

    settings.register_profile("mutation", deadline=None, suppress_health_check=list(HealthCheck))
    settings.load_profile("mutation")

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


def database_refusal(url: str) -> str | None:
    """Why the suite must not run on `url` (its schema is dropped), or None when it may."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"TEST_DATABASE_URL is not a database URL: {url!r}"
    name = parsed.database or ""
    if parsed.get_backend_name() == "sqlite":
        name = Path(name).name
    if "test" not in name.lower():
        return (
            f"TEST_DATABASE_URL names the database {name or '(none)'!r}, whose name does not "
            "contain 'test'. The suite drops and rebuilds its schema: point it at a "
            "database kept for tests, e.g. postgresql+psycopg://postgres@127.0.0.1/test"
        )
    return None


def pytest_configure(config):
    """Refuse to start on a database that is not plainly a test database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        refusal = database_refusal(url)
        if refusal:
            pytest.exit(refusal, returncode=4)


def _database_url(tmp: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.sqlite3'}"


def _fresh_schema(app) -> None:
    """Drop whatever a previous run left, then build the schema by running the migrations."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            refusal = database_refusal(db.engine.url.render_as_string(hide_password=False))
            if refusal:
                raise RuntimeError(refusal)
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
            # The development platform and the fake ones listen on the loopback.
            "REGISTRATION_ALLOW_PRIVATE_HOSTS": True,
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


#: Fixtures that reach the tool; a test using none of them (pure functions) does not build it.
_TOOL_FIXTURES = frozenset({"app", "tool_server"})


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test that reaches the tool starts from empty tables holding only its key."""
    if not _TOOL_FIXTURES.intersection(request.fixturenames):
        yield
        return
    from lti_tool.lti.models import KeyPair

    app = request.getfixturevalue("app")
    _tool_key = request.getfixturevalue("_tool_key")
    _empty_tables(app)
    app.extensions.pop("lti_store", None)
    app.extensions.pop("frame_origins", None)
    app.extensions.pop("reference_groups", None)
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


@pytest.fixture
def scratch_database(app, tmp_path):
    """An empty database beside the suite's, for migration tests: a SQLite file, or a
    PostgreSQL schema of its own."""
    from sqlalchemy import create_engine, text

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS upgrade_check CASCADE"))
        conn.execute(text("CREATE SCHEMA upgrade_check"))
    separator = "&" if "?" in url else "?"
    # Only this schema on the path: the suite's own tables (and its alembic_version) in
    # public must stay out of sight. btree_gist's operator classes are found all the same.
    yield f"{url}{separator}options=-csearch_path%3Dupgrade_check"
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA upgrade_check CASCADE"))
    engine.dispose()


def scratch_app(scratch_database: str, keys_dir):
    """The tool on a scratch database (see scratch_database)."""
    return create_app({"ENV": "test", "TESTING": True, "SECRET_KEY": TEST_SECRET,
                       "TOOL_URL": "http://127.0.0.1:9", "KEYS_DIR": str(keys_dir),
                       "SQLALCHEMY_DATABASE_URI": scratch_database, "LOG_LEVEL": "WARNING"})
