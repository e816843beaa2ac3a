"""The tool's own front door: what it is and where to go from here.

People meet the root address first (the last URL `make run` prints, or the tool's domain
typed by an LMS administrator); it is not part of any launch, so it needs no session.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """What the tool is; in development, the way to the development platform."""
    config = current_app.config
    dev_platform_url = config["DEV_PLATFORM_URL"] if config["ENV"] == "development" else ""
    return render_template("home.html", dev_platform_url=dev_platform_url)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on pages that name no icon (JSON, plain text)."""
    return redirect(url_for("static", filename="img/logo.svg"), code=301)
