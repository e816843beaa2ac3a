"""`pip install .` as an operator does it: the wheel, built from the project's files, installed
into a fresh virtualenv outside the checkout, migrates, serves `/lti/config` and a launch, in
both languages, with its own templates, static files, translations and instruments."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import requests

from tests.conftest import start_platform
from tests.launch_driver import LaunchDriver
from tests.processes import ROOT, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="the installed tool has its own SQLite: the SQLite pass runs it"),
]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def _project_copy(target: Path) -> Path:
    """The project's own files (tracked, or new and not ignored), as a fresh clone has them:
    no compiled catalog, no build folder, nothing of the developer's."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                  cwd=ROOT).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, str]:
    """The wheel built from a copy of the project, and the build's output."""
    source = _project_copy(tmp_path_factory.mktemp("source"))
    assert not list(source.glob("lti_tool/translations/*/LC_MESSAGES/*.mo"))
    out = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(out),
                  str(source)], cwd=out)
    [path] = out.glob("design_mindset_detector-*.whl")
    return path, built.stdout + built.stderr


def test_the_wheel_carries_what_the_pages_need_and_builds_without_warnings(wheel):
    path, output = wheel
    names = set(zipfile.ZipFile(path).namelist())
    for needed in ("lti_tool/templates/error.html", "lti_tool/templates/base.html",
                   "lti_tool/static/css/app.css",
                   "lti_tool/static/vendor/bootstrap/bootstrap.min.css",
                   "lti_tool/migrations/env.py", "lti_tool/migrations/alembic.ini",
                   "lti_tool/questionnaire/instruments/design_mindset_v1.toml",
                   "lti_tool/translations/pl/LC_MESSAGES/messages.mo"):
        assert needed in names, needed
    assert any(n.startswith("lti_tool/migrations/versions/") for n in names)
    # The package metadata's licence as setuptools wants it now (no deprecated table).
    assert "deprecated" not in output.lower(), output


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv outside the checkout holding the wheel. Its dependencies come from
    this test run's environment (a .pth file), so nothing is downloaded; the project itself
    comes only from the wheel."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
                     ).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", str(wheel[0])])
    return venv


def test_the_installed_tool_migrates_serves_its_config_and_a_launch(installed, tmp_path):
    python = str(installed / "bin" / "python")
    work = tmp_path / "run"
    work.mkdir()
    port = free_port()
    tool_url = f"http://127.0.0.1:{port}"
    (work / "config.toml").write_text(
        'ENV = "test"\n'
        'SECRET_KEY = "a-secret-key-for-the-wheel-test-0123456789"\n'
        f'TOOL_URL = "{tool_url}"\n'
        f'SQLALCHEMY_DATABASE_URI = "sqlite:///{work / "dmd.sqlite3"}"\n'
        f'KEYS_DIR = "{work / "keys"}"\n'
    )
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("LTI_TOOL_", "PYTHON")) and key != "DATABASE_URL"}
    env["LTI_TOOL_CONFIG"] = str(work / "config.toml")

    where = _run([python, "-c", "import lti_tool; print(lti_tool.__file__)"], cwd=work, env=env)
    assert Path(where.stdout.strip()).resolve().is_relative_to(installed.resolve())

    flask = [python, "-m", "flask", "--app", "lti_tool"]
    _run([*flask, "db", "upgrade"], cwd=work, env=env)
    _run([*flask, "keys", "generate"], cwd=work, env=env)
    server, platform = start_platform(tmp_path, tool_url, "wheel")
    process = None
    try:
        _run([*flask, "platforms", "add", "--issuer", platform.issuer,
              "--client-id", platform.client_id, "--auth-login-url", platform.auth_login_url,
              "--auth-token-url", platform.auth_token_url,
              "--key-set-url", platform.key_set_url, "--deployment", platform.deployment_id],
             cwd=work, env=env)
        process = subprocess.Popen(
            [python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--no-control-socket", "--log-level", "warning", "lti_tool:create_app()"],
            cwd=work, env=env,
        )
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "gunicorn exited"
            try:
                config = requests.get(tool_url + "/lti/config", timeout=60)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the installed tool did not start"
                time.sleep(0.2)
        assert config.status_code == 200
        assert tool_url + "/lti/launch" in config.text

        driver = LaunchDriver(tool_url, platform)
        attempt = driver.launch(driver.user("Learner")["id"])
        landing = driver.open(attempt)
        assert landing.status_code == 200, landing.text[:1000]
        assert "Design Thinking" in landing.text
        assert requests.get(tool_url + "/static/css/app.css", timeout=60).status_code == 200
        # The catalog compiled into the wheel: Polish for a Polish browser.
        privacy = requests.get(tool_url + "/privacy", headers={"Accept-Language": "pl"},
                               timeout=60)
        assert "Co jest przechowywane i dlaczego" in privacy.text
        missing = requests.get(tool_url + "/no-such-page", timeout=60)
        assert missing.status_code == 404 and "<html" in missing.text
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        server.stop()
