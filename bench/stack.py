"""A throw-away deployment for benchmarks: the tool under gunicorn, the development platform
in its own process, a fresh database (SQLite in a temp folder, or DATABASE_URL), and a
browser stand-in that launches over HTTP exactly as the tests do. Loopback only."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.launch_driver import (  # noqa: E402
    landed,
    landing_url_of,
    parse_form,
    storage_page_data,
)
from tests.processes import Gunicorn, free_port  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-for-the-checks"
PY = sys.executable


@dataclass
class Timed:
    """One launch: the tool's own time (login + launch requests) and the whole round."""

    tool_ms: float
    total_ms: float
    landing_url: str


class Stack:
    """Start everything; `launch(user_id)` drives one full launch; `stop()` ends it all."""

    def __init__(self, *, workers: int = 2, learners: int = 30, threads: int = 4) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="dmd-bench-")
        tmp = Path(self.tmp.name)
        self.database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
        self.keys_dir = str(tmp / "keys")
        self.tool_port = free_port()
        self.tool_url = f"http://127.0.0.1:{self.tool_port}"
        self.platform_port = free_port()
        self.platform_url = f"http://localhost:{self.platform_port}"
        self.env = dict(os.environ)
        self.env.update({
            "LTI_TOOL_CONFIG": str(tmp / "none.toml"), "LTI_TOOL_SECRET_KEY": SECRET,
            "LTI_TOOL_TOOL_URL": self.tool_url, "LTI_TOOL_ENV": "test",
            "LTI_TOOL_KEYS_DIR": self.keys_dir, "LTI_TOOL_LOG_LEVEL": "WARNING",
            "DATABASE_URL": self.database_url,
            # One token serves a whole run, longer than a page keeps a link token.
            "LTI_TOOL_URL_TOKEN_MINUTES": "240",
        })
        if os.environ.get("REDIS_URL"):
            import redis

            self.env["LTI_TOOL_REDIS_URL"] = os.environ["REDIS_URL"]
            redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
        if "postgresql" in self.database_url:
            self._psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        self.flask("db", "upgrade")
        self.flask("keys", "generate")
        registration = subprocess.run(
            [PY, "-m", "lti_tool.devplatform", "registration", "--issuer", self.platform_url,
             "--format", "args"], capture_output=True, text=True, check=True, cwd=ROOT,
        ).stdout.split()
        self.flask("platforms", "add", *registration)
        self.platform = subprocess.Popen(
            [PY, "-m", "lti_tool.devplatform", "--host", "localhost",
             "--port", str(self.platform_port), "--tool-url", self.tool_url,
             "--data-dir", str(tmp / "platform"), "--learners", str(learners)],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._wait(self.platform_url + "/mod/lti/certs.php")
        self.tool = Gunicorn(tool_url=self.tool_url, database_url=self.database_url,
                             keys_dir=self.keys_dir, secret=SECRET, workers=workers,
                             threads=threads, port=self.tool_port,
                             redis_url=os.environ.get("REDIS_URL", ""), production_config=True)
        self.http = requests.Session()

    def _psql(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(text(sql))
        engine.dispose()

    def flask(self, *args: str) -> str:
        """Run a `flask` command against the bench database."""
        return subprocess.run(
            [PY, "-m", "flask", "--app", "lti_tool", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, check=True,
        ).stdout

    @staticmethod
    def _wait(url: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{url} did not come up")

    def launch(self, user_id: str, cmid: int = 2) -> Timed:
        """One launch as a browser does it: platform form → tool login → auth → tool launch."""
        started = time.perf_counter()
        page = self.http.get(f"{self.platform_url}/mod/lti/launch.php",
                             params={"id": cmid, "user": user_id})
        action, fields = parse_form(page.text)
        t0 = time.perf_counter()
        login = self.http.post(action, data=fields, allow_redirects=False)
        tool_ms = (time.perf_counter() - t0) * 1000
        # A redirect, or (Platform Storage offered) the tool's page whose script goes on to
        # the same URL once the state is stored.
        if login.status_code == 302:
            auth_url = login.headers["Location"]
        else:
            auth_url = storage_page_data(login.text)["auth-url"]
        cookies = {c.name: c.value for c in login.cookies}
        auth = self.http.get(auth_url, allow_redirects=False)
        action, fields = parse_form(auth.text)
        t0 = time.perf_counter()
        launched = requests.post(action, data=fields, cookies=cookies, allow_redirects=False)
        tool_ms += (time.perf_counter() - t0) * 1000
        assert landed(launched), launched.text[:500]
        return Timed(tool_ms, (time.perf_counter() - started) * 1000,
                     urljoin(self.tool_url, landing_url_of(launched)))

    def stop(self) -> None:
        """Stop the processes and remove the temporary files."""
        self.tool.stop()
        self.platform.terminate()
        self.platform.wait(10)
        self.tmp.cleanup()
