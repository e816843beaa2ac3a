"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py 'lti_tool:create_app()'`.

Every value can be overridden with an environment variable of the same name in capitals
(GUNICORN_WORKERS, GUNICORN_BIND, ...), so one file serves every server.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Requests mostly wait on the database and the LMS: two workers per core, at least two.
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
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
