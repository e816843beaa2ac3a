"""`make run TOOL_PORT=… PLATFORM_PORT=…` serves the tool and the development platform on the
ports asked for, wired to each other (5000 is often taken by something else)."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import time
from pathlib import Path

import pytest
import requests

from lti_tool.devplatform.forms import read_form
from tests.launch_driver import LaunchAttempt
from tests.processes import ROOT, free_port


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 90) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make run exited with {process.returncode}")
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def _wait_for_line(log: Path, text: str, process: subprocess.Popen,
                   seconds: float = 60) -> str:
    """make run's output once it holds `text` (its three processes start side by side, so
    the worker may print after the tool and the platform already answer)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        printed = log.read_text()
        if text in printed:
            return printed
        if process.poll() is not None:
            raise AssertionError(f"make run exited with {process.returncode}:\n{printed}")
        time.sleep(0.2)
    raise AssertionError(f"make run never printed {text!r}:\n{log.read_text()}")


@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="make run serves SQLite whatever the suite's database: the SQLite pass runs this",
)
def test_make_run_serves_both_on_the_ports_asked_for(tmp_path):
    tool_port, platform_port, mail_port = free_port(), free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text('ENV = "development"\n'
                      'SECRET_KEY = "a-secret-key-for-this-test-only-0123456789"\n'
                      'TOOL_URL = "http://127.0.0.1:5000"\n')
    env = {**os.environ, "LTI_TOOL_CONFIG": str(config),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'tool.sqlite3'}",
           "LTI_TOOL_KEYS_DIR": str(tmp_path / "keys")}
    log = (tmp_path / "make.log").open("w")
    process = subprocess.Popen(
        ["make", "run", f"TOOL_PORT={tool_port}", f"PLATFORM_PORT={platform_port}",
         f"DEVPLATFORM_DATA={tmp_path / 'devplatform'}", f"MAIL_PORT={mail_port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        tool, platform = f"http://127.0.0.1:{tool_port}", f"http://localhost:{platform_port}"
        root = _wait_for(tool + "/", process)
        assert root.status_code == 200
        # The tool's front door leads to the platform on its port ...
        assert f'href="{platform}"' in root.text
        assert _wait_for(platform + "/", process).status_code == 200
        # ... and the platform launches the tool on its port, which answers the login.
        launch = requests.get(platform + "/mod/lti/launch.php?id=2&user=4", timeout=10)
        action, _, fields = read_form(launch.text)
        assert action == tool + "/lti/login"
        login = requests.post(action, data=fields, allow_redirects=False, timeout=10)
        attempt = LaunchAttempt(login_response=login)
        assert attempt.auth_url.startswith(platform + "/mod/lti/auth.php?")
        printed = (tmp_path / "make.log").read_text()
        assert f"Open {platform}/ and launch" in printed
        # The tool's e-mails go to the platform's SMTP sink, whose catches its Mail page lists.
        _wait_for_line(tmp_path / "make.log", "Worker: grades, housekeeping, mail scan, mail",
                       process)
        with smtplib.SMTP("127.0.0.1", mail_port, timeout=10) as smtp:
            smtp.sendmail("dmd@localhost", ["learner@example.edu"],
                          b"Subject: Caught by the sink\r\n\r\nHello.\r\n")
        assert "Caught by the sink" in _wait_for(platform + "/mail", process).text
    finally:
        # make's recipe traps the signal and stops the platform, the worker and the tool.
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()
