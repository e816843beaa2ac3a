"""create_platform_app: the development platform as its own Flask application."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from . import (
    ags,
    canvas_services,
    canvas_views,
    console,
    deeplinking,
    mailpage,
    nrps,
    oidc,
    registration,
    tokens,
)
from .config import PlatformConfig, refuse_production
from .keys import PlatformKey
from .platform import DevPlatform
from .seed import seed_if_needed
from .store import Store

TEMPLATES = Path(__file__).parents[1] / "templates"


def create_platform_app(settings: dict) -> Flask:
    """Build the platform from a settings dict (ISSUER, DATA_DIR, TOOL, LEARNERS, COURSES...)."""
    refuse_production()
    config = PlatformConfig.from_settings(settings)
    # 0700: the directory holds the platform's private key.
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = PlatformKey.load_or_create(config.data_dir)
    store = Store(config.data_dir)
    seed_if_needed(store, config.courses, config.learners)

    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder="static")
    # No sessions are used; a key is set only so that nothing silently signs with None.
    app.secret_key = config.secret_key or secrets.token_hex(32)
    app.extensions["devplatform"] = DevPlatform(config, store, key)
    platform = app.extensions["devplatform"]
    # Every page says which LMS the platform is playing.
    app.context_processor(lambda: {"lms_name": "Canvas" if platform.is_canvas else "Moodle 4.5"})
    for blueprint in (console.bp, oidc.bp, tokens.bp, ags.bp, nrps.bp, deeplinking.bp,
                      registration.bp, canvas_views.bp, canvas_services.bp, mailpage.bp):
        app.register_blueprint(blueprint)
    return app
