"""Design Mindset Detector: an LTI 1.3 tool for Moodle and Canvas."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from lti_tool.config import PROJECT_ROOT, load_config
from lti_tool.extensions import db, migrate


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration → extensions → blueprints → CLI."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(overrides))
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config))
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    _import_models()

    from lti_tool.lti.views import bp as lti_bp
    from lti_tool.lti.views import well_known
    from lti_tool.mentoring.views import bp as mentoring_bp
    from lti_tool.questionnaire.views import bp as questionnaire_bp

    app.register_blueprint(lti_bp)
    app.register_blueprint(well_known)
    app.register_blueprint(questionnaire_bp)
    app.register_blueprint(mentoring_bp)

    from lti_tool.lti.session import launch_url_for

    app.jinja_env.globals["launch_url_for"] = launch_url_for
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)

    from lti_tool.cli import register_cli

    register_cli(app)
    return app


def _engine_options(config: dict[str, Any]) -> dict[str, Any]:
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Several threads (and the grades worker) share one file: wait for locks.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _import_models() -> None:
    """Import every model module so that Alembic and create_all see every table."""
    import lti_tool.identity.models  # noqa: F401
    import lti_tool.lti.models  # noqa: F401


def _security_headers(response):
    # Launch tokens travel in URLs; never let them leak to another site in a Referer.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _http_error(exc: HTTPException):
    return render_template("error.html", error=exc), exc.code or 500
