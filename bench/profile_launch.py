"""Where a launch's time goes: cProfile of N full launches (login, launch, landing page),
in-process, and the SQL statements each one runs.

    .venv/bin/python bench/profile_launch.py [--launches 200] [--users 20] [--top 25]
        [--sort cumulative|tottime]

Only the tool's three requests are profiled (the development platform signs the id_token
outside the profile); the tool runs in this process through Flask's test client, the
platform in a thread (the tool fetches its key set from there). SQLite in a temporary
folder, or DATABASE_URL (the schema there is dropped first), and REDIS_URL for the shared
store. Prints the statement count of one returning learner's launch, then the top costs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
#: Read before tests.conftest is imported: it removes DATABASE_URL from the environment.
DATABASE_URL = os.environ.get("DATABASE_URL")

from sqlalchemy import event  # noqa: E402

from tests.conftest import _fresh_schema, register, start_platform  # noqa: E402
from tests.launch_driver import parse_form, storage_page_data  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-for-the-checks"


class InProcessLaunches:
    """The tool in this process (test client), the development platform in a thread."""

    def __init__(self, tmp: Path) -> None:
        from lti_tool import create_app
        from lti_tool.extensions import db
        from lti_tool.lti import keys

        self.tool_url = "http://127.0.0.1:5999"  # never called: the test client stands in
        self.app = create_app({
            "ENV": "test", "SECRET_KEY": SECRET, "TOOL_URL": self.tool_url,
            "SQLALCHEMY_DATABASE_URI": DATABASE_URL
            or f"sqlite:///{tmp / 'profile.sqlite3'}",
            "KEYS_DIR": str(tmp / "keys"), "LOG_LEVEL": "WARNING",
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
        })
        _fresh_schema(self.app)
        with self.app.app_context():
            keys.generate_key()
            db.session.commit()
            self.engine = db.engine
        self.server, self.platform = start_platform(tmp, self.tool_url, "platform",
                                                    LEARNERS=60)
        with self.app.app_context():
            register(self.app, self.platform)
        self.platform_client = self.server.app.test_client()
        self.tool = self.app.test_client(use_cookies=False)
        # A launch in a window of the tool's own (the login answers 302), as the anchor's.
        self.platform.settings["platform_storage"] = False
        self.profile: cProfile.Profile | None = None
        self.learners = [u["id"] for u in self.platform.users() if u["role"] == "Learner"]

    def login(self, user_id: str) -> tuple[str, str]:
        """The tool's login request: (the platform's auth URL, the state cookie)."""
        url, fields = self.platform.initiate_login_form(user_id)
        with self.profiled():
            login = self.tool.post(urlsplit(url).path, data=fields)
        if login.status_code == 302:
            auth_url = login.headers["Location"]
        else:  # the Platform Storage page, whose script goes on to the same URL
            auth_url = storage_page_data(login.get_data(as_text=True))["auth-url"]
        # Name=value of each Set-Cookie, as a browser sends them back (Secure on loopback).
        cookie = "; ".join(h.split(";", 1)[0] for h in login.headers.getlist("Set-Cookie"))
        return auth_url, cookie

    def authorize(self, auth_url: str) -> dict:
        """The platform's auth answer: the launch form's fields (not profiled)."""
        auth = urlsplit(auth_url)
        page = self.platform_client.get(f"{auth.path}?{auth.query}")
        return parse_form(page.get_data(as_text=True))[1]

    def full_launch(self, user_id: str) -> str:
        """Login, launch and landing page; the landing page's HTML."""
        auth_url, cookie = self.login(user_id)
        form = self.authorize(auth_url)
        with self.profiled():
            return self.launch_and_land(form, cookie)

    @contextmanager
    def profiled(self):
        """Run the block under the profiler, when one is set."""
        if self.profile is None:
            yield
            return
        self.profile.enable()
        try:
            yield
        finally:
            self.profile.disable()

    def launch_and_land(self, form: dict, cookie: str) -> str:
        """The launch POST and, when it redirects, the landing page; the landing HTML."""
        launched = self.tool.post("/lti/launch", data=form, headers={"Cookie": cookie})
        if launched.status_code == 303:
            landing = urlsplit(launched.headers["Location"])
            launched = self.tool.get(f"{landing.path}?{landing.query}")
        assert launched.status_code == 200, launched.get_data(as_text=True)[:500]
        return launched.get_data(as_text=True)

    def stop(self) -> None:
        """Stop the platform's thread."""
        self.server.stop()


def count_statements(bench: InProcessLaunches, user_id: str) -> list[str]:
    """The SQL statements of one launch of `user_id` (login, launch, landing)."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:110])

    event.listen(bench.engine, "before_cursor_execute", note)
    try:
        bench.full_launch(user_id)
    finally:
        event.remove(bench.engine, "before_cursor_execute", note)
    return seen


def main() -> None:
    """Warm up, count one returning learner's statements, profile N launches."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=200)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dmd-profile-") as tmp:
        bench = InProcessLaunches(Path(tmp))
        try:
            users = bench.learners[: args.users]
            for user in users:  # first launches: everyone is a returning learner below
                bench.full_launch(user)
            statements = count_statements(bench, users[0])
            profile = bench.profile = cProfile.Profile()
            for i in range(args.launches):
                bench.full_launch(users[i % len(users)])
        finally:
            bench.stop()
    database = "PostgreSQL" if DATABASE_URL else "SQLite"
    if os.environ.get("REDIS_URL"):
        database += " + Redis"
    print(f"profile_launch: {args.launches} launches (login + launch + landing), {database}")
    print(f"SQL statements for one returning learner: {len(statements)}")
    for statement in statements:
        print("   ", statement)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    total = stats.total_tt
    print(f"profiled time: {total:.2f} s, {total / args.launches * 1000:.2f} ms per launch")
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
