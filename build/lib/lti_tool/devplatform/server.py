"""Serve the platform from a background thread (tests, scripts) on a local port."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from .app import create_platform_app


@dataclass
class RunningPlatform:
    """A platform served in this process; call stop() when done."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def platform(self):
        """The DevPlatform handle."""
        return self.app.extensions["devplatform"]

    @property
    def url(self) -> str:
        """The platform's base URL (its issuer)."""
        return self.platform.issuer

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve_in_thread(settings: dict, host: str = "127.0.0.1", port: int = 0) -> RunningPlatform:
    """Bind host:port (0 = any free port), set ISSUER from it unless given, serve threaded."""
    holder: dict = {}

    def dispatch(environ, start_response):
        # The issuer needs the port, and the port is known only once the socket is bound.
        return holder["app"](environ, start_response)

    server = make_server(host, port, dispatch, threaded=True)
    settings = {"ISSUER": f"http://{host}:{server.server_port}", **settings}
    holder["app"] = create_platform_app(settings)
    thread = threading.Thread(target=server.serve_forever, name="devplatform", daemon=True)
    thread.start()
    return RunningPlatform(holder["app"], server, thread)
