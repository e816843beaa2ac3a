"""The learner's pages: start, the paged questionnaire with autosave, submit, results.

Page indexes in URLs and in the autosave body are 0-based, as in Instrument.pages().
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime

from flask import Blueprint, abort, g, redirect, render_template, request
from flask_babel import gettext as _

from lti_tool.extensions import db
from lti_tool.identity.models import Role
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.activity import answers_shown_to_mentors
from lti_tool.questionnaire.comparison import compare
from lti_tool.questionnaire.delivery import (
    AlreadySubmitted,
    AttemptNotFound,
    BadAnswer,
    MissingAnswers,
    NoActivity,
    NotAllowed,
)
from lti_tool.questionnaire.models import Attempt
from lti_tool.questionnaire.quality_notes import quality_note
from lti_tool.questionnaire.results import results_view

log = logging.getLogger(__name__)
bp = Blueprint("questionnaire", __name__, url_prefix="/questionnaire")
#: Radio groups are named "item-<item id>", so that no item id can clash with other fields.
FIELD_PREFIX = "item-"
# Learners' and mentors' pages show stored quality notes through `note|quality_note`.
bp.add_app_template_filter(quality_note)


@bp.errorhandler(NoActivity)
def _no_activity(exc: NoActivity):
    db.session.rollback()
    return _notice(_("No activity"), str(exc), 404)


@bp.get("/")
@role_required(Role.LEARNER)
def start():
    """The learner's landing page: what the questionnaire is, and Start, Resume or Results."""
    return render_template(
        "questionnaire/start.html", launch=g.launch, overview=delivery.overview(g.launch),
        answers_shown=answers_shown_to_mentors(g.launch.resource_link_id),
    )


@bp.post("/begin")
@role_required(Role.LEARNER)
def begin():
    """Start a new attempt (or continue the open one) and go to its first unanswered page."""
    try:
        attempt = delivery.open_attempt(g.launch)
    except AlreadySubmitted as exc:
        db.session.rollback()
        latest = delivery.latest_attempt(g.launch)
        return _notice(_("Already submitted"), str(exc), 409, attempt=latest)
    db.session.commit()
    page = delivery.resume_page(delivery.instrument_for(attempt), delivery.answers_of(attempt))
    return redirect(_page_url(attempt, page), code=303)


@bp.get("/attempts/<int:attempt_id>/pages/<int:page>")
@role_required(Role.LEARNER)
def page(attempt_id: int, page: int):
    """One page of the questionnaire, with the answers given so far checked."""
    attempt = _attempt_or_404(attempt_id)
    if attempt.is_submitted:
        return redirect(_results_url(attempt), code=303)
    if page >= len(delivery.instrument_for(attempt).pages()):
        abort(404)
    return _render_page(attempt, page, skipped_page=request.args.get("skipped", type=int))


@bp.post("/attempts/<int:attempt_id>/pages/<int:page>")
@role_required(Role.LEARNER)
def save_page(attempt_id: int, page: int):
    """The page's form without JavaScript: save its answers, then go back, on, or submit."""
    attempt = _attempt_or_404(attempt_id)
    values = {
        key.removeprefix(FIELD_PREFIX): value
        for key, value in request.form.items()
        if key.startswith(FIELD_PREFIX)
    }
    seconds = request.form.get("seconds") or _seconds_since(request.form.get("shown_at"))
    go = request.form.get("go", "next")
    try:
        if go == "submit":
            delivery.submit(attempt, page, values, seconds)
        else:
            target = page - 1 if go == "back" else page + 1
            pages = len(delivery.instrument_for(attempt).pages())
            move_to = min(max(target, 0), pages - 1)
            delivery.save_page(attempt, page, values, seconds, move_to=move_to)
    except BadAnswer as exc:
        db.session.rollback()
        log.warning("person %s, attempt %s: bad form: %s", g.launch.person_id, attempt_id, exc)
        return _render_page(attempt, page, posted=values, error=str(exc), status=400)
    except MissingAnswers as exc:
        # The answers on this page were saved; only the submission waits.
        db.session.commit()
        return _render_page(attempt, page, missing=exc, status=422)
    except AlreadySubmitted as exc:
        db.session.rollback()
        return _notice(_("Already submitted"), str(exc), 409, attempt=attempt)
    db.session.commit()
    if go == "submit":
        return redirect(_results_url(attempt), code=303)
    if go == "next" and delivery.unanswered_on_page(attempt, page):
        # Moving on past unanswered statements is allowed, but never without a word.
        return redirect(launch_url_for("questionnaire.page", attempt_id=attempt.id,
                                       page=attempt.current_page, skipped=page), code=303)
    return redirect(_page_url(attempt, attempt.current_page), code=303)


@bp.post("/attempts/<int:attempt_id>/answers")
@role_required(Role.LEARNER)
def autosave(attempt_id: int):
    """Save one answer as soon as it is given (questionnaire.js); JSON in, JSON out."""
    attempt = _attempt_or_404(attempt_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {"error": "bad_request", "message": _("Send a JSON object.")}, 400
    try:
        answered = delivery.save_answer(
            attempt, body.get("item_id"), body.get("value"), body.get("page"), body.get("seconds")
        )
    except BadAnswer as exc:
        db.session.rollback()
        log.warning("person %s, attempt %s: bad autosave: %s", g.launch.person_id, attempt_id, exc)
        return {"error": "bad_answer", "message": _sentence(str(exc))}, 400
    except AlreadySubmitted as exc:
        db.session.rollback()
        return {"error": "submitted", "message": _sentence(str(exc))}, 409
    db.session.commit()
    return {"saved": True, "answered": answered}


@bp.get("/attempts/<int:attempt_id>/results")
@role_required(Role.LEARNER)
def results(attempt_id: int):
    """The learner's profile: scores, chart and table, strengths, areas to develop."""
    attempt = _attempt_or_404(attempt_id)
    if not attempt.is_submitted:
        return redirect(launch_url_for("questionnaire.start"), code=303)
    return render_template(
        "questionnaire/results.html",
        launch=g.launch,
        attempt=attempt,
        submitted=len(delivery.submitted_attempts(g.launch)),
        view=results_view(attempt, g.launch.locale),
        latest=delivery.latest_attempt(g.launch),
        retake_open=delivery.overview(g.launch).may_start_again,
    )


@bp.get("/comparison")
@role_required(Role.LEARNER)
def comparison():
    """Two of the learner's attempts side by side (first and latest unless chosen)."""
    attempts = delivery.submitted_attempts(g.launch)
    if len(attempts) < 2:
        return _notice(_("Nothing to compare yet"), _(
            "A comparison needs two submitted attempts; it appears after you take the "
            "questionnaire again."), 404)
    by_id = {attempt.id: attempt for attempt in attempts}
    before_id = request.args.get("before", type=int, default=attempts[0].id)
    after_id = request.args.get("after", type=int, default=attempts[-1].id)
    if before_id not in by_id or after_id not in by_id:
        # Someone else's attempt looks exactly like one that does not exist.
        log.warning("person %s: no attempts %s/%s to compare", g.launch.person_id, before_id,
                    after_id)
        abort(404)
    before, after = sorted((by_id[before_id], by_id[after_id]), key=lambda a: a.number)
    if before.id == after.id:
        return _notice(_("Bad request"), _("Choose two different attempts."), 400)
    return render_template(
        "questionnaire/comparison.html", launch=g.launch, attempts=attempts,
        view=compare(before, after, g.launch.locale),
    )


@bp.post("/retakes")
@role_required(Role.MENTOR)
def allow_retake():
    """A mentor lets a learner take the questionnaire once more in this activity."""
    person_id = request.form.get("person_id", type=int)
    if person_id is None:
        abort(400)
    try:
        from_dt = _day_start(request.form.get("retake_from"))
    except ValueError:
        log.warning("mentor %s: bad retake date %r", g.launch.person_id,
                    request.form.get("retake_from"))
        return _notice(_("Bad request"), _("The date must be a calendar date such as "
                                           "2027-03-01."), 400)
    try:
        attempt = delivery.allow_retake(g.launch, person_id, from_dt)
    except AttemptNotFound:
        abort(404)
    except NotAllowed as exc:
        db.session.rollback()
        return _notice(_("Not possible"), str(exc), 409)
    db.session.commit()
    return render_template(
        "questionnaire/retake_allowed.html", launch=g.launch, learner=attempt.person,
        attempt=attempt,
    )


def _day_start(text: str | None) -> datetime | None:
    """A date from a form ("2027-03-01") as the start of that day (UTC); None when empty."""
    if not text or not text.strip():
        return None
    return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())


def _attempt_or_404(attempt_id: int) -> Attempt:
    try:
        return delivery.find_attempt(g.launch, attempt_id)
    except AttemptNotFound as exc:
        # Someone else's attempt looks exactly like one that does not exist.
        log.warning("person %s: %s", g.launch.person_id, exc)
        abort(404)


def _render_page(
    attempt: Attempt,
    page: int,
    *,
    posted: dict[str, str] | None = None,
    error: str | None = None,
    missing: MissingAnswers | None = None,
    skipped_page: int | None = None,
    status: int = 200,
):
    instrument = delivery.instrument_for(attempt)
    pages = instrument.pages()
    if not 0 <= page < len(pages):
        return _notice(_("Bad request"), error or _("There is no page %(page)d.", page=page), 400,
                       attempt=attempt)
    answers = delivery.answers_of(attempt)
    skipped = ()
    if skipped_page is not None and 0 <= skipped_page < len(pages) and skipped_page != page:
        skipped = tuple(item for item in pages[skipped_page] if item.id not in answers)
    # Re-show what was just posted, so that a refused form loses nothing the learner chose.
    checked = {**{k: str(v) for k, v in answers.items()}, **(posted or {})}
    return render_template(
        "questionnaire/page.html",
        launch=g.launch,
        attempt=attempt,
        instrument=instrument,
        locale=g.launch.locale,
        page=page,
        pages=pages,
        area=instrument.areas[page],
        items=pages[page],
        # Items are in presentation order, so statements are numbered across pages.
        numbers={item.id: number for number, item in enumerate(instrument.items, start=1)},
        checked=checked,
        answered=len(answers),
        error=error,
        missing=missing,
        skipped=skipped,
        skipped_page=skipped_page,
        shown_at=int(time.time()),
        field_prefix=FIELD_PREFIX,
    ), status


def _notice(title: str, message: str, status: int, attempt: Attempt | None = None):
    return render_template(
        "questionnaire/notice.html",
        launch=g.launch,
        title=title,
        message=_sentence(message),
        attempt=attempt,
    ), status


def _page_url(attempt: Attempt, page: int) -> str:
    return launch_url_for("questionnaire.page", attempt_id=attempt.id, page=page)


def _results_url(attempt: Attempt) -> str:
    return launch_url_for("questionnaire.results", attempt_id=attempt.id)


def _seconds_since(shown_at: str | None) -> float | None:
    # Without JavaScript nobody measures the time on the page: the form carries the time
    # it was shown. Unreadable or future values count as no time at all.
    try:
        elapsed = time.time() - int(shown_at or "")
    except ValueError:
        return None
    return elapsed if elapsed >= 0 else None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
