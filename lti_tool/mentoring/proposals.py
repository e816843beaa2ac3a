"""Mentee agency: a learner proposes goals and actions for their own plan; a mentor of the
course accepts them (as they are, or after editing the goal), or declines them with a reply.

A proposal is a Goal or ActionItem whose `proposal` is PROPOSED: it shows on both plans with
its state, counts in no progress or cohort figure, and cannot be ticked or checked in until
a mentor agrees to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.areas import instrument_of, latest_result
from lti_tool.mentoring.goals import (
    MAX_SMART,
    MAX_TITLE,
    ActionDraft,
    _action,
    action_for_mentor,
    goal_for_learner,
    goal_for_mentor,
    refresh_progress,
)
from lti_tool.mentoring.models import (
    ActionItem,
    ActionOwner,
    Goal,
    GoalStatus,
    Proposal,
)
from lti_tool.mentoring.scope import BadInput, NotAllowed, course_of, require_learner
from lti_tool.mentoring.timezones import BadTime, parse_day

MAX_REPLY = 1000


def propose_goal(launch: LaunchContext, form: Any, today) -> Goal:
    """The launch's learner proposes a goal: a short title, a dimension, why, a target date."""
    require_learner(launch)
    title = (form.get("title") or "").strip()
    if not title:
        raise BadInput(_l("Give the goal a title."))
    if len(title) > MAX_TITLE:
        raise BadInput(_l("Keep the title short (at most %(most)d characters); the full "
                          "wording belongs in the description.", most=MAX_TITLE))
    description = (form.get("description") or "").strip()
    if len(description) > MAX_SMART:
        raise BadInput(_l("“%(field)s” is too long (at most %(most)d characters).",
                          field=_l("Description"), most=MAX_SMART))
    course_id = course_of(launch)
    result = latest_result(course_id, launch.person_id)
    known = {dimension.id for dimension in instrument_of(result).dimensions}
    dimension_id = form.get("dimension_id") or ""
    if dimension_id not in known:
        raise BadInput(_l("Link the goal to at least one dimension."))
    try:
        target = parse_day(form.get("target_date"), _l("the target date"))
    except BadTime as exc:
        raise BadInput(str(exc)) from exc
    if target < today:
        raise BadInput(_l("Choose a target date that is still to come."))
    goal = Goal(course_id=course_id, learner_id=launch.person_id,
                created_by_id=launch.person_id, title=title, description=description,
                dimension_ids=[dimension_id], relevant="", specific="", measurable="",
                achievable="", target_date=target, status=GoalStatus.ACTIVE, progress=0,
                proposal=Proposal.PROPOSED,
                source_attempt_id=result.attempt_id if result is not None else None)
    db.session.add(goal)
    db.session.flush()
    return goal


def propose_action(launch: LaunchContext, goal_id: int, form: Any) -> ActionItem:
    """The learner proposes an action of their own for one of their agreed goals."""
    goal = goal_for_learner(launch, goal_id)
    if goal.proposal is not Proposal.AGREED:
        raise NotAllowed("actions are proposed for agreed goals only")
    draft = ActionDraft.from_form({"title": form.get("title"), "owner": ActionOwner.LEARNER,
                                   "due_date": form.get("due_date")})
    action = ActionItem(title=draft.title, owner=ActionOwner.LEARNER, due_date=draft.due_date,
                        proposal=Proposal.PROPOSED)
    goal.actions.append(action)
    db.session.flush()
    return action


def decide_goal(launch: LaunchContext, goal_id: int, accept: bool, reply: str | None,
                now: datetime | None = None) -> Goal:
    """A mentor accepts a learner's proposed goal, or declines it with a reply."""
    goal = goal_for_mentor(launch, goal_id)
    if goal.proposal is not Proposal.PROPOSED:
        raise BadInput(_l("This goal is not waiting for a decision."))
    reply = (reply or "").strip()
    if len(reply) > MAX_REPLY:
        raise BadInput(_l("The reply is too long (at most %(most)d characters).",
                          most=MAX_REPLY))
    goal.proposal_reply = reply
    if accept:
        goal.proposal = Proposal.AGREED
    else:
        if not reply:
            raise BadInput(_l("Tell the learner why you decline it."))
        goal.proposal, goal.status, goal.closed_dt = (Proposal.DECLINED, GoalStatus.DROPPED,
                                                      now or utcnow())
    db.session.flush()
    return goal


def decide_action(launch: LaunchContext, action_id: int, accept: bool) -> ActionItem:
    """A mentor accepts a learner's proposed action, or declines it (it is taken off)."""
    action = action_for_mentor(launch, action_id)
    if action.proposal is not Proposal.PROPOSED:
        raise BadInput(_l("This action is not waiting for a decision."))
    goal = action.goal
    if accept:
        action.proposal = Proposal.AGREED
    else:
        action.proposal = Proposal.DECLINED
    refresh_progress(goal)
    db.session.flush()
    return action


def learner_action(launch: LaunchContext, action_id: int) -> ActionItem:
    """One of the launch's learner's own action items (NotFound otherwise)."""
    require_learner(launch)
    return _action(launch, action_id, launch.person_id)
