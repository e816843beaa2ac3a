"""The privacy page, and a learner's download of their own data."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, g, render_template

from lti_tool.dataprotection import personal_data
from lti_tool.extensions import db
from lti_tool.identity import audit
from lti_tool.identity.models import Role, utcnow
from lti_tool.lti.session import role_required

bp = Blueprint("dataprotection", __name__)


@bp.get("/privacy")
def privacy():
    """What the tool stores, why, for how long, and who sees it (no launch needed)."""
    return render_template(
        "dataprotection/privacy.html",
        retention_days=current_app.config["ATTEMPT_RETENTION_DAYS"],
        launch=g.get("launch"),
    )


@bp.get("/my-data.json")
@role_required(Role.LEARNER, Role.MENTOR)
def my_data():
    """Everything the tool holds about the person at the screen, as a JSON download."""
    document = personal_data.export_person(g.launch.person_id, for_learner=True)
    audit.record("data.self_export", actor_person_id=g.launch.person_id,
                 subject_person_id=g.launch.person_id, course_id=g.launch.course_id)
    db.session.commit()
    body = json.dumps(document, indent=2, ensure_ascii=False)
    name = f"design-mindset-my-data-{utcnow():%Y-%m-%d}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})
