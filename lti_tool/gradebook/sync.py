"""The score outbox: record a score with the result, deliver it to the LMS after commit.

`record_score` runs inside the learner's submit, in the same transaction as the Result, and
never calls the platform: the LMS being slow or down cannot slow a submission or lose a
grade. The grades worker (`flask grades worker`, or one pass with `flask grades sync`)
delivers due records in batches: several at once over kept-alive connections, then one
commit for the batch.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, selectinload

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
from lti_tool.lti.services import SCOPE_SCORE, PlatformServiceError, ServiceClient

log = logging.getLogger(__name__)

#: The first retry waits about this long; each further one twice as long ...
BACKOFF_BASE_SECONDS = 30
#: ... but never longer than this.
BACKOFF_CAP_SECONDS = 3600
#: Records one delivery claims at once; they stay locked until its single commit.
BATCH_SIZE = 100
#: Scores sent at the same time (each platform's connections are kept alive and reused).
SEND_THREADS = 8


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


def _claim(now: datetime, skip: set[int], size: int) -> list[ScoreRecord]:
    query = (
        select(ScoreRecord)
        .where(ScoreRecord.status == ScoreStatus.PENDING, ScoreRecord.next_try_dt <= now)
        .order_by(ScoreRecord.next_try_dt, ScoreRecord.id)
        .limit(size)
        .with_for_update(skip_locked=True)
        # Loaded by separate SELECTs, which lock nothing: only the records are claimed.
        .options(selectinload(ScoreRecord.person), selectinload(ScoreRecord.resource_link))
    )
    if skip:
        query = query.where(ScoreRecord.id.not_in(skip))
    return list(db.session.scalars(query))


def _with_newer(records: list[ScoreRecord]) -> set[int]:
    """Which of these records have a newer record for the same person and activity."""
    newer = aliased(ScoreRecord)
    return set(db.session.scalars(select(ScoreRecord.id).where(
        ScoreRecord.id.in_([r.id for r in records]),
        exists().where(
            newer.resource_link_id == ScoreRecord.resource_link_id,
            newer.person_id == ScoreRecord.person_id,
            newer.id > ScoreRecord.id,
        ),
    )))


@dataclass
class _Delivery:
    """One claimed record on its way: where it goes, what it sends, what came back."""

    record: ScoreRecord
    settings: GradeSettings | None = None
    target: LineItemTarget | None = None
    score: tuple[float, float] | None = None
    #: Why it cannot be or was not sent (NoLineItem, PlatformServiceError), or None.
    problem: Exception | None = None
    superseded: bool = False


def deliver_batch(
    now: datetime | None = None, size: int = 0, *, skip: set[int] | None = None,
    clients: dict[int, ServiceClient] | None = None, pool: ThreadPoolExecutor | None = None,
) -> list[tuple[int, ScoreStatus]]:
    """Claim up to `size` (BATCH_SIZE) due records, send them, several at once, record every
    answer and commit once; [(record id, new status)], empty when none was due.

    The records stay locked (FOR UPDATE SKIP LOCKED) from the claim to the commit, so no
    other worker sends them meanwhile. Nothing is written before the platform has answered:
    on SQLite the token cache writes on its own connection meanwhile. A crash (or
    KeyboardInterrupt) before the commit leaves every record of the batch pending and
    unchanged; those the platform had accepted are sent again with the same timestamp, and
    its 409 marks them sent (see the module docstring).
    """
    moment = now or utcnow()
    skip = set() if skip is None else skip
    clients = {} if clients is None else clients
    records = _claim(moment, skip, size or BATCH_SIZE)
    if not records:
        db.session.rollback()
        return []
    ids = [record.id for record in records]
    skip.update(ids)
    try:
        deliveries = _prepare(records, clients)
        _send_all(deliveries, clients, pool)
        outcomes = [_apply(delivery, moment) for delivery in deliveries]
        db.session.commit()
    except Exception as exc:
        # A bug or a database hiccup, not the platform's answer: keep the records, try later.
        db.session.rollback()
        log.exception("delivering scores %s failed inside the tool", ids)
        return [(record_id, _postpone(record_id, f"The tool failed while sending: {exc}",
                                      moment)) for record_id in ids]
    except BaseException:
        db.session.rollback()
        raise
    return outcomes


def _prepare(records: list[ScoreRecord], clients: dict[int, ServiceClient]) -> list[_Delivery]:
    """Each record's line item and score (one lookup per activity), or why it has none."""
    superseded = _with_newer(records)
    targets: dict[int, LineItemTarget | Exception] = {}
    settings: dict[int, GradeSettings] = {}
    deliveries = []
    for record in records:
        delivery = _Delivery(record, superseded=record.id in superseded)
        deliveries.append(delivery)
        if delivery.superseded:
            continue
        link = record.resource_link
        if link.id not in settings:
            settings[link.id] = grade_settings(link.id)
        delivery.settings = settings[link.id]
        if link.id not in targets:
            if delivery.settings.lineitem_url is None:
                # Two workers must not both create the activity's line item (PostgreSQL
                # waits here).
                db.session.refresh(delivery.settings, with_for_update=True)
            try:
                client = _client(clients, link.platform_id)
                targets[link.id] = line_item_for(client, link, delivery.settings.lineitem_url,
                                                 delivery.settings.score_maximum)
            except (NoLineItem, PlatformServiceError) as exc:
                targets[link.id] = exc
        found = targets[link.id]
        if isinstance(found, Exception):
            delivery.problem = found
        else:
            delivery.target = found
            delivery.score = _scaled(record, found)
    return deliveries


def _payload(delivery: _Delivery) -> dict:
    record = delivery.record
    given, maximum = delivery.score
    return {
        "userId": record.person.sub,
        "timestamp": iso_timestamp(record.score_dt),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": given,
        "scoreMaximum": maximum,
        "comment": record.comment,
    }


def _send_all(deliveries: list[_Delivery], clients: dict[int, ServiceClient],
              pool: ThreadPoolExecutor | None) -> None:
    """POST the scores, several at once over each platform's kept-alive connections.

    The threads only talk HTTP: the access token is fetched here first, and a score the
    platform answered 401 is sent again here, one by one, with a fresh token."""
    ready = [d for d in deliveries if d.target is not None and d.problem is None]
    tokens: dict[int, str | Exception] = {}
    for delivery in ready:
        platform_id = delivery.record.resource_link.platform_id
        if platform_id not in tokens:
            try:
                tokens[platform_id] = clients[platform_id].access_token([SCOPE_SCORE])
            except PlatformServiceError as exc:
                tokens[platform_id] = exc
    sendable = []
    for delivery in ready:
        token = tokens[delivery.record.resource_link.platform_id]
        if isinstance(token, Exception):
            delivery.problem = token
        else:
            sendable.append((delivery, token))

    def send(item: tuple[_Delivery, str]) -> PlatformServiceError | None:
        delivery, token = item
        client = clients[delivery.record.resource_link.platform_id]
        try:
            client.send_score(delivery.target.url, _payload(delivery), token)
        except PlatformServiceError as exc:
            return exc
        return None

    if pool is None or len(sendable) < 2:
        answers = [send(item) for item in sendable]
    else:
        answers = list(pool.map(send, sendable))
    for (delivery, _), problem in zip(sendable, answers, strict=True):
        if problem is not None and problem.status == 401:
            # A fresh token, once (call() does so), as a single delivery always did.
            client = clients[delivery.record.resource_link.platform_id]
            try:
                client.post_score(delivery.target.url, _payload(delivery))
                problem = None
            except PlatformServiceError as exc:
                problem = exc
        delivery.problem = problem


def _apply(delivery: _Delivery, now: datetime) -> tuple[int, ScoreStatus]:
    """Set the record's new state from what happened to it."""
    record, settings, problem = delivery.record, delivery.settings, delivery.problem
    if delivery.superseded:
        record.status = ScoreStatus.SUPERSEDED
        log.info("score %s superseded by a newer one", record.id)
    elif isinstance(problem, NoLineItem):
        settings.lineitem_problem = str(problem)
        _fail(record, str(problem))
    elif isinstance(problem, PlatformServiceError):
        if problem.status == 409 and delivery.score is not None:
            # See the module docstring: the platform already holds this score (or a later one).
            log.info("score %s: 409, the platform has it already: %s", record.id,
                     problem.describe())
            _remember_line_item(settings, delivery.target)
            _sent(record, delivery.target.url, now)
        else:
            if problem.status == 404:
                # The line item is gone: look for (or create) one again on the next try.
                settings.lineitem_url = None
                settings.score_maximum = None
            if problem.retryable:
                _retry_later(record, explain(problem), now)
            else:
                _fail(record, explain(problem))
    else:
        _remember_line_item(settings, delivery.target)
        record.score_given, record.score_maximum = delivery.score
        _sent(record, delivery.target.url, now)
    return record.id, record.status


def deliver_due(
    now: datetime | None = None, *, limit: int | None = None,
    stop: threading.Event | None = None,
) -> PassReport:
    """One pass: deliver every record due now (at most `limit`), BATCH_SIZE at a time, each
    batch committed once.

    Stops early, between two batches, once `stop` is set.
    """
    report = PassReport()
    skip: set[int] = set()
    clients: dict[int, ServiceClient] = {}
    with ThreadPoolExecutor(SEND_THREADS) as pool:
        while (limit is None or report.handled < limit) and not (stop and stop.is_set()):
            size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - report.handled)
            outcomes = deliver_batch(now, size, skip=skip, clients=clients, pool=pool)
            if not outcomes:
                break
            for record_id, status in outcomes:
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


def _client(clients: dict[int, ServiceClient], platform_id: int) -> ServiceClient:
    if platform_id not in clients:
        clients[platform_id] = ServiceClient(db.session.get(Platform, platform_id))
    return clients[platform_id]


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
