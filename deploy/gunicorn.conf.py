"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py 'lti_tool:create_app()'`.

Every value can be overridden with an environment variable of the same name in capitals
(GUNICORN_WORKERS, GUNICORN_BIND, ...), so one file serves every server. `make bench`
serves the tool with this file too.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads in each worker: while one request waits on the database, Redis or the LMS, another
# runs. A launch is mostly CPU (signature check, template), so a few threads are enough.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
# Keep connections open between requests: a browser's login, launch and page come on one
# connection, and nginx in front reuses its upstream connections. (The sync worker closes
# every connection after one request and drains it first.)
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 15))
# Load the application once in the master and fork the workers from it: less memory, a
# faster start. Each worker then opens its own database connections (post_fork).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
# Launch tokens, registration tokens and feed tokens are masked in the access log.
logger_class = "lti_tool.gunicorn_logging.MaskingLogger"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The app trusts X-Forwarded-* itself (TRUSTED_PROXIES); gunicorn passes them through.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 25.1+ opens a control socket for `gunicornc`, by default in $XDG_RUNTIME_DIR or
# ~/.gunicorn/, shared by every gunicorn the user runs. Ours lives in the unit's runtime
# directory (RuntimeDirectory=dmd in dmd-web.service), readable by its user only;
# GUNICORN_CONTROL_SOCKET="" turns it off.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "/run/dmd/gunicorn.ctl")
control_socket_disable = not control_socket
control_socket_mode = 0o600


def post_fork(server, worker):
    """A forked worker must not share the master's database connections: drop them from
    its pool (without closing them, which would close the master's) so it opens its own."""
    if not preload_app:
        return
    from lti_tool.extensions import db

    app = server.app.wsgi()
    if not hasattr(app, "app_context"):
        return  # another WSGI application (a probe): none of the tool's connections to drop
    with app.app_context():
        db.engine.dispose(close=False)
    app.extensions.pop("lti_store", None)  # a Redis client opens its own connections
    app.extensions.pop("lti_registry", None)
