"""The suite drops the schema of the database it runs on: it takes that database only from
TEST_DATABASE_URL, refuses one whose name lacks "test", and never reads the application's
DATABASE_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = "DMD_TEST_DATABASE_PROBE"


def _pytest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "TEST_DATABASE_URL", PROBE)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.skipif(not os.environ.get(PROBE), reason="run by the tests below in a subprocess")
def test_probe_records_the_database_in_use(app):
    """Not a check of its own: writes what the session uses for the tests below."""
    Path(os.environ[PROBE]).write_text(json.dumps({
        "database": app.config["SQLALCHEMY_DATABASE_URI"],
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
    }))


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://postgres@127.0.0.1/postgres",
    "postgresql+psycopg://postgres@127.0.0.1/dmd",
    "sqlite:////var/lib/dmd/dmd.sqlite3",
])
def test_a_database_not_named_for_tests_is_refused(tmp_path, url):
    probe = tmp_path / "probe.json"
    result = _pytest({"TEST_DATABASE_URL": url, PROBE: str(probe)},
                     f"tests/{Path(__file__).name}::test_probe_records_the_database_in_use")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "does not contain 'test'" in output
    # Refused before any test ran, so nothing was dropped.
    assert not probe.exists()


def test_the_application_database_url_is_ignored(tmp_path):
    """DATABASE_URL (the application's) pointing anywhere: the suite still runs on its own
    temporary SQLite file, and the servers it starts do not inherit the variable."""
    probe = tmp_path / "probe.json"
    result = _pytest(
        {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/production",
         PROBE: str(probe)},
        f"tests/{Path(__file__).name}::test_probe_records_the_database_in_use",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(probe.read_text())
    assert seen["database"].startswith("sqlite:///")
    assert "production" not in seen["database"]
    assert seen["DATABASE_URL"] is None
