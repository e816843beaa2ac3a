"""Deliver the questionnaire: open or resume an attempt, save answers as they come, submit.

Every function takes the LaunchContext or an attempt already found within its scope, so a
learner only ever reaches their own attempts in the launch's activity. Functions add and
flush; the view commits once.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from lti_tool.extensions import db
from lti_tool.gradebook.sync import record_score
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import utcnow
from lti_tool.lti.session import LaunchContext, learner_reach
from lti_tool.questionnaire.activity import retake_round_dt
from lti_tool.questionnaire.instrument import Instrument, Item
from lti_tool.questionnaire.models import Answer, Attempt, Result, mark_latest
from lti_tool.questionnaire.scoring import score
from lti_tool.questionnaire.versions import current_instrument, get_instrument

log = logging.getLogger(__name__)
# ASCII digits only: int() would also take other scripts' digits and full-width forms.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")

#: One report of page time longer than this is a tab left open, not reading: it is capped.
MAX_REPORTED_SECONDS = 30 * 60
#: A pace for the time estimate on the start page: reading a statement and choosing a point.
ESTIMATED_SECONDS_PER_ITEM = 13


class DeliveryError(Exception):
    """A questionnaire request that cannot be carried out; the message says why."""


class NoActivity(DeliveryError):
    """The launch names no resource link, so there is no activity to answer in."""


class AttemptNotFound(DeliveryError):
    """No such attempt within the launch's person, course and activity."""


class AlreadySubmitted(DeliveryError):
    """The attempt is submitted: its answers can no longer change."""


class NotAllowed(DeliveryError):
    """The rules forbid this, e.g. a second attempt without the mentor's permission."""


class BadAnswer(DeliveryError):
    """An answer, page index or time that does not fit the instrument."""


class MissingAnswers(DeliveryError):
    """Submission needs every statement answered; `by_page` maps page index → item ids."""

    def __init__(self, missing: list[Item], instrument: Instrument):
        self.item_ids = tuple(item.id for item in missing)
        self.by_page: dict[int, list[str]] = {}
        for page, items in enumerate(instrument.pages()):
            for item in items:
                if item.id in self.item_ids:
                    self.by_page.setdefault(page, []).append(item.id)
        super().__init__(f"{len(missing)} statements are not answered yet")


@dataclass(frozen=True)
class Overview:
    """What the start page needs: the instrument and where the learner stands with it."""

    instrument: Instrument
    latest: Attempt | None
    answered: int
    resume_page: int
    #: When another attempt opens after the latest submitted one (past: open now); None: none.
    retake_opens_dt: datetime | None = None

    @property
    def total(self) -> int:
        """How many statements the questionnaire has."""
        return len(self.instrument.items)

    @property
    def minutes(self) -> int:
        """About how long answering every statement takes."""
        return math.ceil(self.total * ESTIMATED_SECONDS_PER_ITEM / 60)

    @property
    def in_progress(self) -> bool:
        """Whether there is an unsubmitted attempt to resume."""
        return self.latest is not None and not self.latest.is_submitted

    @property
    def may_start_again(self) -> bool:
        """Whether the latest attempt is submitted and another one is open now."""
        return self.retake_opens_dt is not None and self.retake_opens_dt <= utcnow()

    @property
    def retake_planned(self) -> bool:
        """Whether another attempt opens at a later date."""
        return self.retake_opens_dt is not None and self.retake_opens_dt > utcnow()


def instrument_for(attempt: Attempt) -> Instrument:
    """The exact instrument version the attempt was started with."""
    return get_instrument(attempt.instrument_id, attempt.instrument_version)


def _require_activity(launch: LaunchContext) -> None:
    """NoActivity for a launch that comes from no activity."""
    if launch.resource_link_id is None:
        raise NoActivity(_l("this launch does not come from an activity in a course"))


#: A person's attempts in an activity and course (or outside any course), with the person,
#: activity and course bound (`_attempts`): every learner's landing page reads the latest,
#: and every answer saved finds its attempt, so those are built once.
_SCOPED = {
    in_course: select(Attempt).where(
        Attempt.person_id == bindparam("person"),
        Attempt.resource_link_id == bindparam("link"),
        Attempt.course_id == bindparam("course") if in_course else Attempt.course_id.is_(None),
    )
    for in_course in (True, False)
}
_LATEST = {key: query.order_by(Attempt.number.desc()).limit(1)
           for key, query in _SCOPED.items()}
_FIND = {key: query.where(Attempt.id == bindparam("attempt"))
         for key, query in _SCOPED.items()}


def _attempts(scoped: dict[bool, Select], person_id: int,
              launch: LaunchContext) -> tuple[Select, dict[str, int]]:
    """One of the _SCOPED statements (or one built from them) for the launch, and the values
    it binds: one person's attempts in the launch's activity and course."""
    _require_activity(launch)
    values = {"person": person_id, "link": launch.resource_link_id}
    if launch.course_id is not None:
        values["course"] = launch.course_id
    return scoped[launch.course_id is not None], values


def _latest(person_id: int, launch: LaunchContext) -> Attempt | None:
    return db.session.scalar(*_attempts(_LATEST, person_id, launch))


def latest_attempt(launch: LaunchContext) -> Attempt | None:
    """The launching person's most recent attempt in the launch's activity, if any."""
    return _latest(launch.person_id, launch)


def submitted_attempts(launch: LaunchContext) -> list[Attempt]:
    """The launching person's submitted attempts in the launch's activity, oldest first."""
    query, values = _attempts(_SCOPED, launch.person_id, launch)
    return list(db.session.scalars(
        query.where(Attempt.submitted_dt.is_not(None)).order_by(Attempt.number), values))


def find_attempt(launch: LaunchContext, attempt_id: int) -> Attempt:
    """The attempt with this id if it is the launching person's in this activity."""
    query, values = _attempts(_FIND, launch.person_id, launch)
    attempt = db.session.scalar(query, {**values, "attempt": attempt_id})
    if attempt is None:
        raise AttemptNotFound(f"no attempt {attempt_id} for this person and activity")
    return attempt


def overview(launch: LaunchContext) -> Overview:
    """The start page's view of the launching learner's attempts."""
    latest = latest_attempt(launch)
    if latest is None:
        return Overview(current_instrument(), None, 0, 0)
    instrument = instrument_for(latest)
    opens = latest.retake_opens_dt(retake_round_dt(launch.resource_link_id))
    if opens is not None and opens <= utcnow():
        # The next attempt starts with whatever version is current then.
        instrument = current_instrument()
    answers = answers_of(latest)
    return Overview(instrument, latest, len(answers), resume_page(instrument, answers), opens)


def open_attempt(launch: LaunchContext) -> Attempt:
    """The attempt to continue: the unsubmitted one, or a new one when none or a retake is allowed.

    AlreadySubmitted when the latest attempt is submitted and no retake is allowed.
    """
    latest = latest_attempt(launch)
    if latest is not None and not latest.is_submitted:
        return latest
    if latest is not None:
        opens = latest.retake_opens_dt(retake_round_dt(launch.resource_link_id))
        if opens is None or opens > utcnow():
            raise AlreadySubmitted(
                _l("you have already submitted the questionnaire in this activity"))
    instrument = current_instrument()
    number = latest.number + 1 if latest else 1
    attempt = Attempt(
        person_id=launch.person_id,
        course_id=launch.course_id,
        resource_link_id=launch.resource_link_id,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        number=number,
        page_seconds={},
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # A double click raced us to the same number: continue the attempt it started.
        attempt = latest_attempt(launch)
        if attempt is None or attempt.number != number:
            raise
    log.info("person %s opened attempt %s", launch.person_id, attempt.number)
    return attempt


def unanswered_on_page(attempt: Attempt, page: int) -> list[str]:
    """The ids of the page's statements the attempt has no answer for yet."""
    pages = instrument_for(attempt).pages()
    if not 0 <= page < len(pages):
        return []
    answered = answers_of(attempt)
    return [item.id for item in pages[page] if item.id not in answered]


def answers_of(attempt: Attempt) -> dict[str, int]:
    """Item id → raw answer, for every item answered so far."""
    rows = db.session.execute(
        select(Answer.item_id, Answer.value).where(Answer.attempt_id == attempt.id)
    )
    return {item_id: value for item_id, value in rows}


def resume_page(instrument: Instrument, answers: Mapping[str, int]) -> int:
    """The page holding the first unanswered item; the last page when all are answered."""
    pages = instrument.pages()
    for index, items in enumerate(pages):
        if any(item.id not in answers for item in items):
            return index
    return len(pages) - 1


def save_answer(
    attempt: Attempt, item_id: Any, value: Any, page: Any, seconds: Any = None
) -> int:
    """Save one answer given on `page`, with the seconds spent there since the last report;
    how many items the attempt has answered now.

    The autosave path: one upsert for the answer (a repeat or a change of mind updates it in
    place, and two requests racing for the same item cannot both insert), no answer rows
    loaded. Flushed, not committed."""
    if attempt.is_submitted:
        raise AlreadySubmitted(
            _l("this questionnaire is already submitted; its answers can no longer change")
        )
    instrument = instrument_for(attempt)
    index = _page_index(instrument, page)
    checked = _checked_values(instrument, index, {item_id: value})
    elapsed = _seconds(seconds)
    now = utcnow()
    ((checked_id, point),) = checked.items()
    db.session.execute(_SAVE_ANSWER["postgresql" if db.engine.dialect.name == "postgresql"
                                    else "sqlite"],
                       {"attempt": attempt.id, "item": checked_id, "value": point, "now": now})
    _note_progress(attempt, index, elapsed, move_to=index)
    db.session.flush()
    return db.session.scalar(_ANSWERED, {"attempt": attempt.id}) or 0


def _save_answer(dialect: str) -> Any:
    """The autosave's upsert for a dialect, its values bound."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Answer).values(attempt_id=bindparam("attempt"),
                                      item_id=bindparam("item"), value=bindparam("value"),
                                      answered_dt=bindparam("now"))
    return statement.on_conflict_do_update(
        index_elements=["attempt_id", "item_id"],
        set_={"value": statement.excluded.value, "answered_dt": statement.excluded.answered_dt},
        # A repeat of the same value changes nothing (its first time stays).
        where=Answer.value != statement.excluded.value,
    )


#: Built once: every answer a learner gives runs them (building the upsert cost more than
#: SQLite took to run it).
_SAVE_ANSWER = {dialect: _save_answer(dialect) for dialect in ("postgresql", "sqlite")}
_ANSWERED = select(func.count(Answer.id)).where(Answer.attempt_id == bindparam("attempt"))


def _checked_values(instrument: Instrument, index: int,
                    values: Mapping[Any, Any]) -> dict[str, int]:
    """Each answer as a point of its scale; BadAnswer for any that does not fit the page."""
    on_page = {item.id for item in instrument.pages()[index]}
    known = {item.id for item in instrument.items}
    checked: dict[str, int] = {}
    for item_id, raw in values.items():
        if item_id not in known:
            raise BadAnswer(_l("there is no statement %(item)s in this questionnaire",
                               item=repr(item_id)))
        if item_id not in on_page:
            raise BadAnswer(_l("statement %(item)s is not on page index %(index)d",
                               item=repr(item_id), index=index))
        checked[item_id] = _scale_value(instrument, item_id, raw)
    return checked


def _note_progress(attempt: Attempt, index: int, elapsed: float | None,
                   move_to: int | None) -> None:
    """Add the seconds spent on page `index`; keep the page the learner goes to."""
    if elapsed:
        times = dict(attempt.page_seconds or {})
        times[str(index)] = round(times.get(str(index), 0.0) + elapsed, 1)
        # A new dict: the JSON column does not notice changes made inside the old one.
        attempt.page_seconds = times
    if move_to is not None and attempt.current_page != move_to:
        attempt.current_page = move_to


def save_page(
    attempt: Attempt,
    page: Any,
    values: Mapping[Any, Any],
    seconds: Any = None,
    move_to: int | None = None,
) -> None:
    """Save answers given on one page; all or nothing: BadAnswer if any does not fit.

    `seconds` is the time spent on the page since the last report; `move_to` is the page the
    learner goes to next (kept as the attempt's current page).
    """
    if attempt.is_submitted:
        raise AlreadySubmitted(
            _l("this questionnaire is already submitted; its answers can no longer change")
        )
    instrument = instrument_for(attempt)
    index = _page_index(instrument, page)
    checked = _checked_values(instrument, index, values)
    elapsed = _seconds(seconds)

    stored = {answer.item_id: answer for answer in attempt.answers}
    now = utcnow()
    for item_id, value in checked.items():
        if item_id in stored:
            if stored[item_id].value != value:
                stored[item_id].value, stored[item_id].answered_dt = value, now
            continue
        try:
            with db.session.begin_nested():
                attempt.answers.append(Answer(item_id=item_id, value=value, answered_dt=now))
        except IntegrityError:
            # The same answer arrived twice at once (autosave and form): keep the latest value.
            twin = db.session.scalars(
                select(Answer).filter_by(attempt_id=attempt.id, item_id=item_id)
            ).one()
            twin.value, twin.answered_dt = value, now
    _note_progress(attempt, index, elapsed,
                   None if move_to is None else _page_index(instrument, move_to))
    db.session.flush()


def submit(
    attempt: Attempt,
    page: Any = None,
    values: Mapping[Any, Any] | None = None,
    seconds: Any = None,
) -> Result:
    """Save the last page's answers (if given), score the attempt and store its Result.

    Submitting again returns the stored Result and changes nothing. MissingAnswers names
    every unanswered statement, attention checks included.
    """
    if attempt.is_submitted:
        return _stored_result(attempt)
    if page is not None:
        save_page(attempt, page, values or {}, seconds, move_to=page)
    instrument = instrument_for(attempt)
    answers = answers_of(attempt)
    missing = [item for item in instrument.items if item.id not in answers]
    if missing:
        raise MissingAnswers(missing, instrument)
    profile = score(instrument, answers, attempt.seconds_by_page())
    # Claim the submission with a conditional update before anything else is written: when
    # two submissions race, the second waits for the first's row (or SQLite's write lock),
    # then matches no row and returns the first one's result.
    claimed = db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.submitted_dt.is_(None))
        .values(submitted_dt=utcnow())
    ).rowcount
    if claimed:
        mark_latest(Attempt.person_id == attempt.person_id,
                    Attempt.resource_link_id == attempt.resource_link_id)
    # A bulk update leaves the loaded attempt as it was: read back this or the winner's time.
    db.session.refresh(attempt)
    if not claimed:
        return _stored_result(attempt)
    result = Result.from_profile(attempt, profile)
    db.session.add(result)
    db.session.flush()
    record_score(person_id=attempt.person_id, resource_link_id=attempt.resource_link_id,
                 result_id=result.id, overall=result.overall, quality_flagged=result.flagged)
    log.info("attempt %s of person %s submitted", attempt.id, attempt.person_id)
    return result


def _stored_result(attempt: Attempt) -> Result:
    return db.session.scalars(select(Result).where(Result.attempt_id == attempt.id)).one()


def allow_retake(launch: LaunchContext, person_id: int,
                 from_dt: datetime | None = None) -> Attempt:
    """Let a learner take the questionnaire once more in this activity; earlier attempts stay.

    With `from_dt` the retake opens then (e.g. at a goal's target date), else at once; a
    mentor may move the date of a retake that is not used yet. Returns the learner's latest
    (submitted) attempt, now marked.
    """
    if not launch.is_mentor:
        raise NotAllowed(_l("only a mentor of this course may allow another attempt"))
    # A learner outside the mentor's caseload looks like one without an attempt.
    query, values = _attempts(_SCOPED, person_id, launch)
    latest = db.session.scalar(query.where(learner_reach(launch, Attempt.person_id))
                               .order_by(Attempt.number.desc()).limit(1), values)
    if latest is None:
        raise AttemptNotFound(f"person {person_id} has no attempt in this activity")
    if not latest.is_submitted:
        raise NotAllowed(
            _l("this learner has an attempt in progress; it can be finished first"))
    if not latest.retake_allowed or latest.retake_from_dt != from_dt:
        latest.retake_allowed_dt = utcnow()
        latest.retake_allowed_by_id = launch.person_id
        latest.retake_from_dt = from_dt
        db.session.flush()
        log.info("person %s allowed person %s another attempt from %s", launch.person_id,
                 person_id, from_dt or "now")
    return latest


def _page_index(instrument: Instrument, page: Any) -> int:
    count = len(instrument.pages())
    index = _whole_number(page, _l("page index"))
    if not 0 <= index < count:
        raise BadAnswer(_l("page index %(page)s does not exist; indexes run from 0 to %(last)d",
                           page=repr(page), last=count - 1))
    return index


def _scale_value(instrument: Instrument, item_id: str, raw: Any) -> int:
    scale = instrument.scale
    try:
        value = _whole_number(raw, _l("answer"))
    except BadAnswer:
        value = None
    if value is None or value not in scale.points:
        raise BadAnswer(_l(
            "the answer to %(item)s must be a whole number from %(min)d to %(max)d, not %(raw)s",
            item=repr(item_id), min=scale.min, max=scale.max, raw=repr(raw),
        ))
    return value


def _whole_number(raw: Any, what: object) -> int:
    # Forms send text and JSON sends numbers; True is an int in Python but never an answer.
    if type(raw) is int:
        return raw
    if isinstance(raw, str) and _WHOLE_NUMBER.fullmatch(raw.strip()):
        return int(raw.strip())
    raise BadAnswer(_l("the %(what)s must be a whole number, not %(raw)s", what=what,
                       raw=repr(raw)))


def _seconds(raw: Any) -> float:
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise BadAnswer(_l("the time spent must be a number of seconds, not %(raw)s",
                           raw=repr(raw)))
    return min(value, MAX_REPORTED_SECONDS)
