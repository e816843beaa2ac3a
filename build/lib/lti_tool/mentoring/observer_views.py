"""An observer's pages (an LIS Mentor, e.g. a parent in Canvas): the learners their launch
names, and each one's results and plan exactly as the learner sees them, read-only.

Nothing here changes anything, and nothing private reaches it: no mentor's private notes, no
item-level answers, no questions or reflections the learner wrote for their mentor.
"""

from __future__ import annotations

from flask import Blueprint, g

from lti_tool.identity.models import Role, utcnow
from lti_tool.lti.session import role_required
from lti_tool.mentoring.plan import observer_plan
from lti_tool.mentoring.scope import observed_learners
from lti_tool.mentoring.viewer import answer_errors, page, viewer_clock

bp = Blueprint("observer", __name__, url_prefix="/observe")
answer_errors(bp)


@bp.get("/")
@role_required(Role.OBSERVER)
def index():
    """The learners this observer may follow in the course."""
    return page("observer/index.html", learners=observed_learners(g.launch))


@bp.get("/learners/<int:learner_id>")
@role_required(Role.OBSERVER)
def learner(learner_id: int):
    """One observed learner's results in brief and development plan, read-only."""
    clock = viewer_clock()
    now = utcnow()
    return page("observer/learner.html", clock=clock, now=now, today=clock.today(now),
                plan=observer_plan(g.launch, learner_id, now))
