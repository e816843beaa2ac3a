"""Design Mindset Detector: an LTI 1.3 tool for Moodle and Canvas."""

from __future__ import annotations

import io
import logging
from typing import Any

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from lti_tool import i18n
from lti_tool.config import PACKAGE_DIR, PROJECT_ROOT, load_config
from lti_tool.extensions import db, migrate


def _watch_registry_writes() -> None:
    # Each process keeps platform registrations and the tool's key in memory; a commit that
    # changes them tells every process to drop its copies.
    from lti_tool.lti.registry import watch_writes

    watch_writes()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration → extensions → blueprints → CLI."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PACKAGE_DIR / "templates"),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.config.update(load_config(overrides))
    if app.config["ENV"] in ("development", "test"):
        from lti_tool import localhost_names

        localhost_names.install()
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config))
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from lti_tool import log_masking

    log_masking.install_werkzeug_filter()

    db.init_app(app)
    _watch_registry_writes()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    i18n.init_app(app)
    _import_models()

    from lti_tool.gradebook.views import bp as gradebook_bp
    from lti_tool.lti.views import bp as lti_bp
    from lti_tool.lti.views import well_known
    from lti_tool.mentoring.goals_views import bp as goals_bp
    from lti_tool.mentoring.guide_views import bp as guide_bp
    from lti_tool.mentoring.observer_views import bp as observer_bp
    from lti_tool.mentoring.plan_views import bp as plan_bp
    from lti_tool.mentoring.programme.learner_views import bp as ratings_bp
    from lti_tool.mentoring.programme.views import bp as programme_bp
    from lti_tool.mentoring.sessions_views import bp as sessions_bp
    from lti_tool.mentoring.views import bp as mentoring_bp
    from lti_tool.notifications.views import bp as notifications_bp
    from lti_tool.questionnaire.views import bp as questionnaire_bp
    from lti_tool.report.views import bp as report_bp

    app.register_blueprint(lti_bp)
    app.register_blueprint(well_known)
    app.register_blueprint(questionnaire_bp)
    app.register_blueprint(mentoring_bp)
    app.register_blueprint(gradebook_bp)
    app.register_blueprint(sessions_bp)
    app.register_blueprint(goals_bp)
    app.register_blueprint(guide_bp)
    app.register_blueprint(plan_bp)
    app.register_blueprint(observer_bp)
    app.register_blueprint(programme_bp)
    app.register_blueprint(ratings_bp)
    app.register_blueprint(report_bp)
    app.register_blueprint(notifications_bp)

    from lti_tool.lti.session import launch_url_for

    app.jinja_env.globals["launch_url_for"] = launch_url_for
    from lti_tool.figures import page_score

    # One way to show a score on every page: `{{ value|score }}`, `{{ value|score(sem) }}`.
    app.add_template_filter(page_score, "score")
    from lti_tool import headers
    from lti_tool.dataprotection import audit_hook
    from lti_tool.dataprotection.views import bp as dataprotection_bp
    from lti_tool.health import bp as health_bp
    from lti_tool.home import bp as home_bp

    headers.install(app)
    audit_hook.install(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(dataprotection_bp)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a TLS-terminating proxy: trust its X-Forwarded-* so URLs are https and
        # cookies Secure. Only as many hops as configured, never more.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.register_error_handler(HTTPException, _http_error)
    # Refuse an oversized body before any view reads it; a chunked body that names no length
    # is cut off by Werkzeug at MAX_CONTENT_LENGTH while the form is read.
    app.before_request(_refuse_oversized_body)
    app.register_error_handler(RequestEntityTooLarge, _too_large)

    from lti_tool.cli import register_cli

    register_cli(app)
    return app


def _engine_options(config: dict[str, Any]) -> dict[str, Any]:
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Several threads (and the grades worker) share one file: wait for locks.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _tune_sqlite(engine) -> None:
    """Make SQLite behave under several threads and processes.

    WAL lets readers work while one connection writes; NORMAL sync is safe under WAL.
    pysqlite's default transaction handling is kept on purpose: it begins a transaction
    at the first write, so a request that reads and then writes never holds a stale read
    snapshot (which SQLite refuses to upgrade), and the shared store's own connection can
    work between a request's reads. Production runs PostgreSQL, where none of this applies.
    """
    from sqlalchemy import event

    from lti_tool.identity.names import register_sqlite_functions

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # Person's name rules in SQL need a hash and casefold(), which SQLite lacks.
        register_sqlite_functions(dbapi_connection)


def _import_models() -> None:
    """Import every model module so that Alembic and create_all see every table."""
    import lti_tool.gradebook.models  # noqa: F401
    import lti_tool.identity.audit  # noqa: F401
    import lti_tool.identity.models  # noqa: F401
    import lti_tool.lti.invitations  # noqa: F401
    import lti_tool.lti.models  # noqa: F401
    import lti_tool.mentoring.models  # noqa: F401
    import lti_tool.mentoring.programme.models  # noqa: F401
    import lti_tool.notifications.models  # noqa: F401
    import lti_tool.questionnaire.activity  # noqa: F401
    import lti_tool.questionnaire.models  # noqa: F401


def _http_error(exc: HTTPException):
    return render_template("error.html", error=exc), exc.code or 500


log = logging.getLogger(__name__)


def _refuse_oversized_body() -> None:
    """413 for a body over MAX_CONTENT_LENGTH, before any view reads it.

    A chunked body names no length; Werkzeug would read it up to the limit and silently
    drop the rest, so read one byte more than the limit here and give the view the body
    with its length named (nothing has read the stream before this hook).
    """
    limit = request.max_content_length
    if limit is None:
        return
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if chunked and request.environ.get("wsgi.input_terminated"):
        body = request.environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            raise RequestEntityTooLarge()
        request.environ["wsgi.input"] = io.BytesIO(body)
        request.environ["CONTENT_LENGTH"] = str(len(body))
    elif (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def _too_large(exc: RequestEntityTooLarge):
    log.warning("request body too large refused on %s %s (%s bytes, limit %s)",
                request.method, request.path, request.content_length or "unknown",
                request.max_content_length)
    return render_template("error.html", error=exc,
                           limit_kb=(request.max_content_length or 0) // 1024), 413
