"""The score outbox: record a score with the result, deliver it to the LMS after commit.

`record_score` runs inside the learner's submit, in the same transaction as the Result, and
never calls the platform: the LMS being slow or down cannot slow a submission or lose a
grade. The grades worker (`flask grades worker`, or one pass with `flask grades sync`)
delivers due records one by one, committing after each.

Several workers may share PostgreSQL: each claims a record with `SELECT ... FOR UPDATE SKIP
LOCKED` and holds the row lock while it talks to the platform, so no record is sent by two
workers at once. SQLite has no row locks (SQLAlchemy leaves the clause out): run one worker.

Only a person's newest record in an activity is sent; an older one still pending is marked
superseded when a worker reaches it. No answer, a timeout, 408, 429 and 5xx are tried again
after 30 s · 2^(n−1) (at most 1 h, half of it random) until GRADE_RETRY_HOURS have passed
since the record became pending; any other refusal (400, 403, 404, 422, ...) fails the
record at once with the platform's answer, for mentors to read and retry.

A record is only ever sent with the timestamp it was given when recorded. If a worker dies
after the platform accepted a score but before it committed, the record is still pending
and is sent again with the same timestamp; the platform keeps whole seconds and refuses a
timestamp that is not later than the one it holds (Moodle: 409), so the repeat changes
nothing and the 409 means "already there": the record is marked sent. A 409 can also mean
the platform holds a later score for the person (from elsewhere); sending this older one
with a new timestamp would overwrite it, so "sent" is right in both cases. (Canvas answers
400 to an old timestamp: there the record fails with the platform's words.)
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.gradebook.lineitems import LineItemTarget, NoLineItem, line_item_for
from lti_tool.gradebook.models import GradeMode, GradeSettings, ScoreRecord, ScoreStatus
from lti_tool.gradebook.settings import (
    DEFAULT_MAXIMUM,
    grade_settings,
    latest_launch_custom,
)
from lti_tool.identity.models import Platform, utcnow
from lti_tool.lti.services import PlatformServiceError, ServiceClient

log = logging.getLogger(__name__)

#: The first retry waits about this long; each further one twice as long ...
BACKOFF_BASE_SECONDS = 30
#: ... but never longer than this.
BACKOFF_CAP_SECONDS = 3600


# Recording ---------------------------------------------------------------------------------


def score_given(mode: GradeMode, overall: float, maximum: float) -> float:
    """Points for a submission: full marks (completion), or overall / 10 of the maximum."""
    if mode is GradeMode.COMPLETION:
        return maximum
    # The index runs 1..10 and learners see "7.3 of 10": 73 of 100 reads the same.
    return round(min(max(overall, 0.0), 10.0) / 10 * maximum, 2)


def score_comment(mode: GradeMode, overall: float) -> str:
    """The comment sent with a score; the index written as every page writes it."""
    if mode is GradeMode.COMPLETION:
        return "Design Mindset questionnaire completed."
    return f"Design Mindset overall index {display(overall)} of 10."


def next_timestamp(previous: datetime | None, now: datetime) -> datetime:
    """`now`, or one second after `previous` when `now` is not in a later whole second."""
    if previous is None or now.replace(microsecond=0) > previous.replace(microsecond=0):
        return now
    return previous + timedelta(seconds=1)


def _newest(resource_link_id: int, person_id: int) -> ScoreRecord | None:
    return db.session.scalar(
        select(ScoreRecord)
        .where(ScoreRecord.resource_link_id == resource_link_id,
               ScoreRecord.person_id == person_id)
        .order_by(ScoreRecord.id.desc())
        .limit(1)
    )


def initial_status(mode: GradeMode, quality_flagged: bool) -> ScoreStatus:
    """Pending, or held for a mentor's review: a flagged response's score in score mode.

    In completion mode a flagged response still completes the activity: its full marks
    claim nothing about the answers, so they are sent (mentors see the flag on their pages).
    """
    if mode is GradeMode.SCORE and quality_flagged:
        return ScoreStatus.HELD
    return ScoreStatus.PENDING


def add_record(
    settings: GradeSettings, person_id: int, result_id: int | None, overall: float,
    now: datetime | None = None, *, quality_flagged: bool = False,
) -> ScoreRecord:
    """A pending (or held) ScoreRecord for the activity's current mode, flushed, not committed."""
    now = now or utcnow()
    maximum = settings.score_maximum or DEFAULT_MAXIMUM
    previous = _newest(settings.resource_link_id, person_id)
    record = ScoreRecord(
        resource_link_id=settings.resource_link_id,
        person_id=person_id,
        result_id=result_id,
        overall=overall,
        grade_mode=settings.grade_mode,
        score_given=score_given(settings.grade_mode, overall, maximum),
        score_maximum=maximum,
        comment=score_comment(settings.grade_mode, overall),
        quality_flagged=quality_flagged,
        score_dt=next_timestamp(previous.score_dt if previous else None, now),
        status=initial_status(settings.grade_mode, quality_flagged),
        next_try_dt=now,
        pending_since_dt=now,
        created_dt=now,
    )
    db.session.add(record)
    db.session.flush()
    return record


def record_score(
    *, person_id: int, resource_link_id: int, result_id: int | None, overall: float,
    quality_flagged: bool = False,
) -> ScoreRecord:
    """Put a submission's score in the outbox, in the caller's transaction (the Result's).

    `quality_flagged`: the response was flagged for its quality; in score mode the score is
    then held for a mentor's review instead of being sent.
    """
    settings = db.session.scalar(
        select(GradeSettings).where(GradeSettings.resource_link_id == resource_link_id)
    ) or grade_settings(resource_link_id, latest_launch_custom(person_id, resource_link_id))
    record = add_record(settings, person_id, result_id, overall,
                        quality_flagged=quality_flagged)
    log.info("score %s of person %s recorded (%s, %s)", record.id, person_id,
             record.grade_mode, record.status)
    return record


# Delivering --------------------------------------------------------------------------------


@dataclass
class PassReport:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    superseded: int = 0
    record_ids: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Records looked at."""
        return len(self.record_ids)


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 with microseconds and the UTC zone, as AGS wants a score's timestamp."""
    return moment.replace(tzinfo=UTC).isoformat(timespec="microseconds")


def backoff(attempts: int) -> timedelta:
    """The wait before try number `attempts + 1`: 30 s · 2^(n−1), at most 1 h, with jitter."""
    ceiling = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    # Half fixed, half random: workers that failed together do not retry together.
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


def _claim(now: datetime, skip: set[int]) -> ScoreRecord | None:
    query = (
        select(ScoreRecord)
        .where(ScoreRecord.status == ScoreStatus.PENDING, ScoreRecord.next_try_dt <= now)
        .order_by(ScoreRecord.next_try_dt, ScoreRecord.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if skip:
        query = query.where(ScoreRecord.id.not_in(skip))
    return db.session.scalar(query)


def _has_newer(record: ScoreRecord) -> bool:
    newer = aliased(ScoreRecord)
    return bool(db.session.scalar(select(exists().where(
        newer.resource_link_id == record.resource_link_id,
        newer.person_id == record.person_id,
        newer.id > record.id,
    ))))


def deliver_next(
    now: datetime | None = None, *, skip: set[int] | None = None,
    clients: dict[int, ServiceClient] | None = None,
) -> tuple[int, ScoreStatus] | None:
    """Claim one due record, deliver it and commit; (record id, new status), or None if none.

    `skip` names records this pass has handled already. A crash (or KeyboardInterrupt) during
    delivery leaves the record pending and unchanged, to be tried again.
    """
    moment = now or utcnow()
    skip = set() if skip is None else skip
    record = _claim(moment, skip)
    if record is None:
        db.session.rollback()
        return None
    record_id = record.id
    skip.add(record_id)
    try:
        _deliver(record, moment, {} if clients is None else clients)
        status = record.status
        db.session.commit()
    except Exception as exc:
        # A bug or a database hiccup, not the platform's answer: keep the record, try later.
        db.session.rollback()
        log.exception("delivering score %s failed inside the tool", record_id)
        return record_id, _postpone(record_id, f"The tool failed while sending: {exc}", moment)
    except BaseException:
        db.session.rollback()
        raise
    return record_id, status


def deliver_due(
    now: datetime | None = None, *, limit: int | None = None,
    stop: threading.Event | None = None,
) -> PassReport:
    """One pass: deliver every record due now (at most `limit`), committing after each.

    Stops early, between two records, once `stop` is set.
    """
    report = PassReport()
    skip: set[int] = set()
    clients: dict[int, ServiceClient] = {}
    while (limit is None or report.handled < limit) and not (stop and stop.is_set()):
        outcome = deliver_next(now, skip=skip, clients=clients)
        if outcome is None:
            break
        record_id, status = outcome
        report.record_ids.append(record_id)
        if status is ScoreStatus.SENT:
            report.sent += 1
        elif status is ScoreStatus.FAILED:
            report.failed += 1
        elif status is ScoreStatus.SUPERSEDED:
            report.superseded += 1
        else:
            report.retrying += 1
    return report


def work(stop: threading.Event, poll_seconds: float) -> int:
    """The worker's loop: a pass, then a pause of `poll_seconds`, until `stop` is set.

    A failure of the database or of the tool ends the pass, not the worker. Returns how many
    records it handled.
    """
    handled = 0
    while not stop.is_set():
        try:
            handled += deliver_due(stop=stop).handled
        except Exception:
            log.exception("grades worker: the pass failed; trying again after a pause")
            db.session.rollback()
        finally:
            # A fresh session per pass: nothing read in one pass goes stale in the next.
            db.session.remove()
        stop.wait(poll_seconds)
    return handled


def _client(clients: dict[int, ServiceClient], platform_id: int) -> ServiceClient:
    if platform_id not in clients:
        clients[platform_id] = ServiceClient(db.session.get(Platform, platform_id))
    return clients[platform_id]


def _deliver(record: ScoreRecord, now: datetime, clients: dict[int, ServiceClient]) -> None:
    """Send one claimed record and set its new state.

    Nothing is written to the database before the platform has answered: on SQLite the
    token cache writes on its own connection meanwhile, and a crash must leave no trace.
    """
    if record.status is not ScoreStatus.PENDING:
        # Only pending records are claimed; a held one waits for a mentor, never for a worker.
        log.warning("score %s is %s, not pending: not sent", record.id, record.status)
        return
    if _has_newer(record):
        record.status = ScoreStatus.SUPERSEDED
        log.info("score %s superseded by a newer one", record.id)
        return
    link = record.resource_link
    settings = grade_settings(link.id)
    if settings.lineitem_url is None:
        # Two workers must not both create the activity's line item (PostgreSQL waits here).
        db.session.refresh(settings, with_for_update=True)
    target: LineItemTarget | None = None
    try:
        client = _client(clients, link.platform_id)
        target = line_item_for(client, link, settings.lineitem_url, settings.score_maximum)
        given, maximum = _scaled(record, target)
        client.post_score(target.url, {
            "userId": record.person.sub,
            "timestamp": iso_timestamp(record.score_dt),
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "scoreGiven": given,
            "scoreMaximum": maximum,
            "comment": record.comment,
        })
    except NoLineItem as exc:
        settings.lineitem_problem = str(exc)
        _fail(record, str(exc))
        return
    except PlatformServiceError as exc:
        if exc.status == 409 and target is not None:
            # See the module docstring: the platform already holds this score (or a later one).
            log.info("score %s: 409, the platform has it already: %s", record.id, exc.describe())
            _remember_line_item(settings, target)
            _sent(record, target.url, now)
            return
        if exc.status == 404:
            # The line item is gone: look for (or create) one again on the next try.
            settings.lineitem_url = None
            settings.score_maximum = None
        if exc.retryable:
            _retry_later(record, explain(exc), now)
        else:
            _fail(record, explain(exc))
        return
    _remember_line_item(settings, target)
    record.score_given, record.score_maximum = given, maximum
    _sent(record, target.url, now)


def _scaled(record: ScoreRecord, target: LineItemTarget) -> tuple[float, float]:
    """The record's score on the line item's own maximum, when the tool knows it."""
    if not target.maximum or target.maximum == record.score_maximum:
        return record.score_given, record.score_maximum
    return round(record.score_given / record.score_maximum * target.maximum, 2), target.maximum


def _remember_line_item(settings: GradeSettings, target: LineItemTarget) -> None:
    settings.lineitem_url = target.url
    settings.score_maximum = target.maximum or settings.score_maximum
    settings.lineitem_problem = None


def _sent(record: ScoreRecord, url: str | None, now: datetime) -> None:
    record.status = ScoreStatus.SENT
    record.attempts += 1
    record.sent_dt = now
    record.lineitem_url = url
    record.last_error = None
    log.info("score %s sent to %s", record.id, url)


def _fail(record: ScoreRecord, reason: str) -> None:
    record.status = ScoreStatus.FAILED
    record.attempts += 1
    record.last_error = reason
    log.warning("score %s failed: %s", record.id, reason)


def explain(exc: PlatformServiceError) -> str:
    """The platform's answer for mentors, with what it means when it is a known one."""
    reason = exc.describe()
    if exc.status == 400 and exc.body.strip() == "[]":
        reason += " (Moodle's answer when the person is not a learner in the course)"
    elif exc.status == 401:
        reason += " (the platform refused the tool's access token even after a fresh one)"
    return reason


def _retry_later(record: ScoreRecord, reason: str, now: datetime) -> None:
    record.attempts += 1
    limit = timedelta(hours=current_app.config["GRADE_RETRY_HOURS"])
    if now - record.pending_since_dt >= limit:
        _give_up(record, reason, limit)
        return
    record.last_error = reason
    record.next_try_dt = now + backoff(record.attempts)
    log.info("score %s: try %s failed (%s); next at %s",
             record.id, record.attempts, reason, record.next_try_dt)


def _give_up(record: ScoreRecord, reason: str, limit: timedelta) -> None:
    hours = limit.total_seconds() / 3600
    record.status = ScoreStatus.FAILED
    record.last_error = f"Gave up after {record.attempts} tries over {hours:g} hours: {reason}"
    log.warning("score %s: %s", record.id, record.last_error)


def _postpone(record_id: int, reason: str, now: datetime) -> ScoreStatus:
    """After a failure inside the tool: count the try and schedule the next (own commit)."""
    # Locked again: after the rollback another worker may have claimed it (then: leave it).
    record = db.session.get(ScoreRecord, record_id, with_for_update={"skip_locked": True})
    if record is None or record.status is not ScoreStatus.PENDING:
        db.session.rollback()
        return ScoreStatus.PENDING if record is None else record.status
    _retry_later(record, reason, now)
    status = record.status
    db.session.commit()
    return status
