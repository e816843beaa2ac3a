"""Start the tool under gunicorn, as production runs it, for multi-process tests and benches."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn 'lti_tool:create_app()'` on 127.0.0.1 with settings from the environment."""

    def __init__(self, *, tool_url: str, database_url: str, keys_dir: str, secret: str,
                 workers: int = 1, redis_url: str = "", port: int | None = None,
                 threads: int = 1, production_config: bool = False) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({
            "LTI_TOOL_CONFIG": str(ROOT / "instance" / "no-such-config.toml"),
            "LTI_TOOL_SECRET_KEY": secret,
            "LTI_TOOL_TOOL_URL": tool_url,
            "LTI_TOOL_ENV": "test",
            "LTI_TOOL_KEYS_DIR": keys_dir,
            "LTI_TOOL_LOG_LEVEL": "WARNING",
            "LTI_TOOL_REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
        })
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        if production_config:
            # deploy/gunicorn.conf.py as production runs it; only these values from here.
            env.update({"GUNICORN_BIND": f"127.0.0.1:{self.port}",
                        "GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads),
                        "GUNICORN_LOG_LEVEL": "warning", "GUNICORN_ACCESSLOG": "",
                        "GUNICORN_CONTROL_SOCKET": ""})
            command = [gunicorn, "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
        else:
            command = [gunicorn, "--workers", str(workers), "--threads", str(threads),
                       "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
                       "--no-control-socket"]
        self.process = subprocess.Popen([*command, "lti_tool:create_app()"], cwd=ROOT, env=env)
        self._wait_until_up()

    def _wait_until_up(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                requests.get(self.url + "/lti/jwks", timeout=5)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def pids(self) -> list[int]:
        """The master's process id and its workers'."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [self.process.pid, *map(int, children.read_text().split())]

    def stop(self) -> None:
        """Stop gunicorn and its workers."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
