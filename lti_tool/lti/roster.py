"""The course roster from the platform's Names and Role Provisioning Service (NRPS).

A sync fetches every page of the membership container first and writes afterwards: on
SQLite the shared store (where service tokens are cached) cannot be written while the
session holds an uncommitted write. The writes are set-based: the course's people and
memberships are loaded in one query each, then new rows are inserted and changed rows
updated in bulk, so 2,000 members cost a handful of statements, not thousands.

Members the platform no longer lists (or lists as not Active) become inactive; their data
stays. Names and e-mail are kept exactly as the platform shares them now, as launches do:
when it withholds them, pages show the person's stable pseudonym.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lti_tool.extensions import db
from lti_tool.identity.models import Course, Membership, Person, Role, utcnow
from lti_tool.identity.names import name_key_of
from lti_tool.lti.roles import role_for
from lti_tool.lti.services import PlatformServiceError, ServiceClient
from lti_tool.lti.storage import shared_store

log = logging.getLogger(__name__)

#: Members asked for per NRPS page (`limit`); the platform may send fewer.
PAGE_SIZE = 100
#: After a failed sync, mentors' pages wait this long before asking the platform again,
#: so a platform that is down does not cost every page view a timeout.
FAILURE_PAUSE_SECONDS = 120
#: Only one worker syncs a course at a time; the others show the roster they have.
LOCK_SECONDS = 60
#: The longest platform answer shown to mentors (the log has it whole).
PROBLEM_CHARS = 300
#: Subjects looked up per query; far below every database's limit on bound parameters.
CHUNK = 5000
PERSON_FIELDS = ("name", "given_name", "family_name", "email")


class RosterError(Exception):
    """The roster cannot be synced; the message says why."""


class RosterUnavailable(RosterError):
    """The course has no NRPS membership URL (the platform did not offer the service)."""


class RosterSyncFailed(RosterError):
    """The platform's roster could not be read; `detail` is its answer in one line."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class RosterReport:
    """What one sync changed."""

    course_id: int
    members: int
    pages: int
    people_added: int
    people_updated: int
    joined: int
    changed: int
    left: int
    fetch_seconds: float
    write_seconds: float

    def describe(self) -> str:
        """One line for logs and the command line."""
        return (
            f"{self.members} members in {self.pages} page(s): {self.people_added} new people, "
            f"{self.people_updated} updated, {self.joined} joined, {self.changed} changed role "
            f"or status, {self.left} left; fetched in {self.fetch_seconds:.2f} s, "
            f"written in {self.write_seconds:.2f} s"
        )


@dataclass(frozen=True)
class RosterState:
    """Where a course's list of learners comes from, for the mentor's page."""

    #: True when the platform offers NRPS; otherwise the list is who has launched.
    from_platform: bool
    synced_dt: datetime | None = None
    #: The platform's answer when the last sync failed (shown as a notice), else None.
    problem: str | None = None


@dataclass(frozen=True)
class _Member:
    sub: str
    person: dict[str, str | None]
    roles: list[str]
    role: Role
    active: bool


def is_stale(course: Course, max_age_minutes: int, now: datetime | None = None) -> bool:
    """Whether the course's roster is older than `max_age_minutes` (or was never synced)."""
    if course.roster_synced_dt is None:
        return True
    return (now or utcnow()) - course.roster_synced_dt >= timedelta(minutes=max_age_minutes)


def refresh_if_stale(course_id: int) -> RosterState:
    """Sync the roster when it is older than ROSTER_MAX_AGE_MINUTES; never raise for the platform.

    Call it before the request writes anything (see the module docstring). A sync's writes
    are committed here, at once; when the roster is fresh nothing is written and the
    request's transaction goes on (no COMMIT and BEGIN for nothing). A platform error is
    logged and returned as `problem`, and the next attempt waits FAILURE_PAUSE_SECONDS.
    """
    course = db.session.get(Course, course_id)
    if course is None or not course.memberships_url:
        return RosterState(from_platform=False)
    if not is_stale(course, current_app.config["ROSTER_MAX_AGE_MINUTES"]):
        return RosterState(True, course.roster_synced_dt)
    store = shared_store()
    failed = store.get(_failure_key(course_id))
    if failed is not None:
        return RosterState(True, course.roster_synced_dt, failed)
    # The lock is left to expire rather than deleted: deleting it after the sync's writes
    # would wait for them on SQLite, and once synced the roster is fresh for a while anyway.
    if not store.add(_lock_key(course_id), 1, LOCK_SECONDS):
        return RosterState(True, course.roster_synced_dt)
    try:
        sync_roster(course_id)
    except RosterSyncFailed as exc:
        log.warning("roster of course %s not synced: %s", course_id, exc.detail)
        problem = exc.detail[:PROBLEM_CHARS]
        store.set(_failure_key(course_id), problem, FAILURE_PAUSE_SECONDS)
        return RosterState(True, course.roster_synced_dt, problem)
    db.session.commit()
    return RosterState(True, course.roster_synced_dt)


def sync_roster(course_id: int, *, page_size: int = PAGE_SIZE) -> RosterReport:
    """Fetch the course's whole NRPS roster, then upsert people and memberships (flushed)."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise RosterUnavailable(f"there is no course {course_id}")
    if not course.memberships_url:
        raise RosterUnavailable(
            f"{course.display_title} has no roster service: the platform sent no NRPS claim"
        )
    started = time.perf_counter()
    members, pages = _fetch(course, page_size)
    fetched = time.perf_counter()
    counts = _apply(course, members)
    course.roster_synced_dt = utcnow()
    db.session.flush()
    report = RosterReport(
        course_id=course.id, members=len(members), pages=pages, **counts,
        fetch_seconds=fetched - started, write_seconds=time.perf_counter() - fetched,
    )
    log.info("roster of course %s synced: %s", course.id, report.describe())
    return report


def _fetch(course: Course, page_size: int) -> tuple[dict[str, _Member], int]:
    members: dict[str, _Member] = {}
    pages = 0
    try:
        client = ServiceClient(course.platform)
        for page in client.members_pages(course.memberships_url, limit=page_size):
            pages += 1
            for raw in page.members:
                member = _member(raw)
                if member is not None:
                    members[member.sub] = member
    except PlatformServiceError as exc:
        raise RosterSyncFailed(f"the roster of {course.display_title} could not be read",
                               exc.describe()) from exc
    except (ValueError, AttributeError) as exc:
        # An answer that is not a JSON object (an HTML error page with status 200).
        raise RosterSyncFailed(f"the roster of {course.display_title} could not be read",
                               f"the platform's answer is not a membership container: {exc}"
                               ) from exc
    return members, pages


def _member(raw: dict[str, Any]) -> _Member | None:
    sub = raw.get("user_id")
    if not isinstance(sub, str | int) or isinstance(sub, bool) or str(sub) == "":
        return None
    roles = [role for role in raw.get("roles") or [] if isinstance(role, str)]
    return _Member(
        sub=str(sub)[:255],
        person={field: _text(raw.get(field)) for field in PERSON_FIELDS},
        roles=roles,
        role=role_for(roles),
        # NRPS statuses are Active, Inactive and Deleted; no status means Active.
        active=str(raw.get("status") or "Active").casefold() == "active",
    )


def _text(value: Any) -> str | None:
    return value[:255] if isinstance(value, str) and value else None


def _apply(course: Course, members: dict[str, _Member]) -> dict[str, int]:
    person_ids, added, updated = _upsert_people(course.platform_id, members)
    existing = {
        row.person_id: row
        for row in db.session.execute(
            select(Membership.id, Membership.person_id, Membership.role, Membership.roles,
                   Membership.active).where(Membership.course_id == course.id)
        )
    }
    new_rows, changes = [], []
    for sub, member in members.items():
        person_id = person_ids[sub]
        row = existing.get(person_id)
        if row is None:
            new_rows.append({"course_id": course.id, "person_id": person_id, "role": member.role,
                             "roles": member.roles, "active": member.active})
        elif (row.role, row.active) != (member.role, member.active):
            # The role list itself is left as it is otherwise: launches store URIs, NRPS
            # short names, and swapping one for the other at every sync changes nothing.
            changes.append({"id": row.id, "role": member.role, "roles": member.roles,
                            "active": member.active})
    if new_rows:
        _insert_ignoring_conflicts(Membership, new_rows, ["course_id", "person_id"])
    if changes:
        db.session.execute(update(Membership), changes)
    listed = set(person_ids.values())
    gone = [row.id for person_id, row in existing.items()
            if row.active and person_id not in listed]
    for start in range(0, len(gone), CHUNK):
        db.session.execute(
            update(Membership).where(Membership.id.in_(gone[start:start + CHUNK]))
            .values(active=False).execution_options(synchronize_session=False)
        )
    return {"people_added": added, "people_updated": updated, "joined": len(new_rows),
            "changed": len(changes), "left": len(gone)}


def _upsert_people(
    platform_id: int, members: dict[str, _Member]
) -> tuple[dict[str, int], int, int]:
    """Person ids by sub for every member, creating and updating people in bulk."""
    columns = [Person.id, Person.sub, *(getattr(Person, field) for field in PERSON_FIELDS)]
    known = {row.sub: row for row in _people_by_sub(platform_id, list(members), columns)}
    now = utcnow()
    missing = [sub for sub in members if sub not in known]
    if missing:
        _insert_ignoring_conflicts(
            Person,
            [{"platform_id": platform_id, "sub": sub, **members[sub].person,
              "created_dt": now, "updated_dt": now} for sub in missing],
            ["platform_id", "sub"],
        )
        # Also picks up people a concurrent launch created between our read and insert.
        known.update((row.sub, row) for row in _people_by_sub(platform_id, missing, columns))
    # A bulk UPDATE by primary key runs no ORM events: the name key goes with the names.
    changed = [
        {"id": known[sub].id, **member.person, "updated_dt": now,
         "name_key": name_key_of(platform_id, sub, member.person["name"],
                                 member.person["given_name"], member.person["family_name"])}
        for sub, member in members.items()
        if sub not in missing
        and any(getattr(known[sub], field) != member.person[field] for field in PERSON_FIELDS)
    ]
    if changed:
        db.session.execute(update(Person), changed)
    return {sub: known[sub].id for sub in members}, len(missing), len(changed)


def _people_by_sub(platform_id: int, subs: list[str], columns: list[Any]) -> list[Any]:
    rows = []
    for start in range(0, len(subs), CHUNK):
        rows += db.session.execute(
            select(*columns).where(Person.platform_id == platform_id,
                                   Person.sub.in_(subs[start:start + CHUNK]))
        ).all()
    return rows


def _insert_ignoring_conflicts(model: type, rows: list[dict[str, Any]],
                               keys: list[str]) -> None:
    """INSERT the rows; one that a concurrent launch already created is skipped."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = pg_insert(model).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        statement = sqlite_insert(model).on_conflict_do_nothing(index_elements=keys)
    else:
        statement = insert(model)
    db.session.execute(statement, rows)


def _failure_key(course_id: int) -> str:
    return f"roster-failed:{course_id}"


def _lock_key(course_id: int) -> str:
    return f"roster-sync:{course_id}"


# Command line -------------------------------------------------------------------------------


@click.group("roster")
def roster_cli() -> None:
    """Course rosters from the platforms (NRPS)."""


@roster_cli.command("sync")
@click.option("--course", "course_id", type=int, help="The tool's id of one course.")
@click.option("--all", "all_courses", is_flag=True, help="Every course with a roster service.")
@click.option("--page-size", type=click.IntRange(1, 1000), default=PAGE_SIZE, show_default=True,
              help="Members asked for per page.")
def roster_sync(course_id: int | None, all_courses: bool, page_size: int) -> None:
    """Fetch rosters now, whatever their age; each course is committed on its own."""
    if (course_id is None) == (not all_courses):
        raise click.UsageError("give either --course ID or --all")
    if all_courses:
        ids = list(db.session.scalars(
            select(Course.id).where(Course.memberships_url.is_not(None),
                                    Course.memberships_url != "").order_by(Course.id)
        ))
        if not ids:
            click.echo("No course has a roster service yet (none launched with NRPS).")
            return
    else:
        ids = [course_id]
    failures = 0
    for each in ids:
        course = db.session.get(Course, each)
        label = f"course {each}" + (f" ({course.display_title})" if course else "")
        try:
            report = sync_roster(each, page_size=page_size)
        except RosterSyncFailed as exc:
            db.session.rollback()
            failures += 1
            click.echo(f"{label}: FAILED: {exc}: {exc.detail}", err=True)
            continue
        except RosterUnavailable as exc:
            db.session.rollback()
            failures += 1
            click.echo(f"{label}: {exc}", err=True)
            continue
        db.session.commit()
        click.echo(f"{label}: {report.describe()}")
    if failures:
        raise click.ClickException(f"{failures} of {len(ids)} course(s) not synced")
