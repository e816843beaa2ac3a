"""The grades worker as a process: killed in the middle of a delivery it loses nothing and
doubles nothing; asked to stop (SIGTERM) it stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lti_tool.devplatform import ags
from tests.gradebook.conftest import item_of, submit

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def flask(app, *args: str) -> subprocess.Popen:
    """`flask grades ...` in its own process, on the test database, as an operator runs it."""
    env = dict(os.environ)
    env.update({
        "LTI_TOOL_CONFIG": str(ROOT / "instance" / "no-such-config.toml"),
        "LTI_TOOL_SECRET_KEY": app.config["SECRET_KEY"],
        "LTI_TOOL_TOOL_URL": app.config["TOOL_URL"],
        "LTI_TOOL_ENV": "test",
        "LTI_TOOL_KEYS_DIR": app.config["KEYS_DIR"],
        "LTI_TOOL_LOG_LEVEL": "INFO",
        "LTI_TOOL_HTTP_TIMEOUT_SECONDS": "30",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    })
    command = [str(Path(sys.executable).with_name("flask")), "--app", "lti_tool", "grades", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_worker_killed_during_a_delivery_loses_and_doubles_nothing(
    app, driver, learners, deliver, records, monkeypatch
):
    platform = driver.platform
    submit(driver, learners[0]["id"])
    assert deliver().sent == 1  # the line item and a token are known from now on
    submit(driver, learners[1]["id"])
    hanging = threading.Event()
    real_failure = ags._simulated_failure

    def noticed(platform):
        hanging.set()
        real_failure(platform)

    monkeypatch.setattr(ags, "_simulated_failure", noticed)
    platform.settings.update(ags_failure="hang", ags_hang_seconds=5)

    worker = flask(app, "sync")
    # The worker's score POST hangs on the platform: kill the worker there.
    assert hanging.wait(20)
    worker.kill()
    worker.wait(10)

    first, second = records()
    assert second["status"] == "pending" and second["attempts"] == 0
    assert len(item_of(platform)["history"]) == 1

    platform.settings["ags_failure"] = None
    assert deliver().sent == 1
    assert [r["status"] for r in records()] == ["sent", "sent"]
    item = item_of(platform)
    assert sorted(s["userId"] for s in item["history"]) == sorted(
        [learners[0]["id"], learners[1]["id"]]
    )
    assert len(item["scores"]) == 2


def test_the_worker_delivers_and_stops_cleanly_on_sigterm(app, driver, learners, records):
    worker = flask(app, "worker", "--poll", "0.2")
    try:
        submit(driver, learners[0]["id"])
        wait_for(lambda: records()[0]["status"] == "sent")
        submit(driver, learners[1]["id"])
        wait_for(lambda: [r["status"] for r in records()] == ["sent", "sent"])
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "SIGTERM received, stopping" in output
    assert "stopped after handling 2 score(s)" in output
    assert len(item_of(driver.platform)["scores"]) == 2
