"""deploy/gunicorn.conf.py: the control socket (gunicorn 25.1+, for `gunicornc`) lives in the
service's runtime directory, not in a folder shared by everything the user runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from gunicorn.app.base import Application

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "gunicorn.conf.py"


class _Loaded(Application):
    """gunicorn's own settings after reading the file, as `gunicorn -c` would."""

    def load_config(self):
        self.load_config_from_file(str(CONF))

    def load(self):  # pragma: no cover - never served
        raise AssertionError("not served")


def test_the_control_socket_is_in_the_runtime_directory(monkeypatch):
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    cfg = _Loaded().cfg
    assert cfg.control_socket == "/run/dmd/gunicorn.ctl"
    assert not cfg.control_socket_disable
    assert cfg.control_socket_mode == 0o600


def test_an_empty_control_socket_turns_it_off(monkeypatch):
    monkeypatch.setenv("GUNICORN_CONTROL_SOCKET", "")
    assert _Loaded().cfg.control_socket_disable


def test_the_unit_creates_the_runtime_directory():
    unit = (ROOT / "deploy" / "dmd-web.service").read_text()
    assert "RuntimeDirectory=dmd\n" in unit


@pytest.mark.slow
def test_gunicorn_opens_the_socket_where_configured_and_nowhere_in_home(tmp_path):
    (tmp_path / "probe_app.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    socket = tmp_path / "run" / "gunicorn.ctl"
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    port = free_port()
    env.update({"HOME": str(home), "GUNICORN_CONTROL_SOCKET": str(socket),
                "GUNICORN_WORKERS": "1", "GUNICORN_BIND": f"127.0.0.1:{port}"})
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "-c", str(CONF), "--pythonpath", str(tmp_path), "probe_app:app"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not socket.exists() and time.monotonic() < deadline:
            assert process.poll() is None, "gunicorn exited"
            time.sleep(0.1)
        assert socket.is_socket()
        assert oct(socket.stat().st_mode & 0o777) == oct(0o600)
        assert not (home / ".gunicorn").exists()
        # And its worker boots: the configuration's hooks serve any WSGI application.
        answer = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert (answer.status_code, answer.text) == (200, "ok")
    finally:
        process.terminate()
        process.wait(10)
