"""The platform's SQLite store: schema, connections that are safe across threads, site queries."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

DB_FILE = "devplatform.sqlite3"
#: Raised when a table changes shape: a store of another version is dropped and made anew
#: (it holds only seeded data and what a trial left behind).
SCHEMA_VERSION = "2"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS courses (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    title TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS enrolments (
    course_id TEXT NOT NULL REFERENCES courses(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('Instructor', 'Learner', 'Mentor')),
    observes TEXT REFERENCES users(id),       -- a Mentor (Canvas observer): whose parent
    PRIMARY KEY (course_id, user_id)
);
CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,     -- Moodle's lti instance id = resource_link.id
    cmid INTEGER NOT NULL UNIQUE,             -- course module id, carried by URLs and hints
    course_id TEXT NOT NULL REFERENCES courses(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    url TEXT,                                 -- set by deep linking; NULL = tool default
    custom_json TEXT NOT NULL DEFAULT '{}',
    created_dt TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_activities_course ON activities(course_id);
CREATE TABLE IF NOT EXISTS line_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,     -- AUTOINCREMENT: a deleted item's URL never returns
    course_id TEXT NOT NULL REFERENCES courses(id),
    resource_link_id INTEGER REFERENCES activities(id),
    label TEXT NOT NULL,
    score_maximum REAL NOT NULL,
    resource_id TEXT NOT NULL DEFAULT '',
    tag TEXT NOT NULL DEFAULT '',
    start_dt TEXT,
    end_dt TEXT
);
CREATE INDEX IF NOT EXISTS ix_line_items_course ON line_items(course_id);
CREATE TABLE IF NOT EXISTS scores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line_item_id INTEGER NOT NULL REFERENCES line_items(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    score_given REAL,
    score_maximum REAL,
    comment TEXT,
    timestamp TEXT NOT NULL,                  -- as the tool sent it
    timestamp_s INTEGER NOT NULL,             -- whole UTC seconds, Moodle's resolution
    submission_json TEXT,                     -- Canvas's submission extension, as sent
    activity_progress TEXT NOT NULL,
    grading_progress TEXT NOT NULL,
    received_dt TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_scores_item_user ON scores(line_item_id, user_id);
-- Every score POST received, accepted or refused: what a tool sent, not what the gradebook
-- kept (Moodle's 409 hides a repeated score; this log does not).
CREATE TABLE IF NOT EXISTS score_posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id TEXT NOT NULL,
    line_item_id TEXT NOT NULL,
    user_id TEXT,
    timestamp TEXT,
    status INTEGER NOT NULL,
    received_dt TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS grades (
    line_item_id INTEGER NOT NULL REFERENCES line_items(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    last_timestamp_s INTEGER NOT NULL,        -- every accepted score moves it, as in Moodle
    score_id INTEGER REFERENCES scores(id),   -- the last FullyGraded score: the current grade
    PRIMARY KEY (line_item_id, user_id)
);
CREATE TABLE IF NOT EXISTS launches (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    course_id TEXT NOT NULL REFERENCES courses(id),
    activity_id INTEGER REFERENCES activities(id),
    message_type TEXT NOT NULL,
    message_hint TEXT NOT NULL,               -- must come back verbatim
    placement TEXT,                           -- Canvas: course_navigation, assignment, ...
    target_link_uri TEXT NOT NULL,
    created_dt TEXT NOT NULL,
    used_dt TEXT
);
CREATE TABLE IF NOT EXISTS deep_link_requests (
    data TEXT PRIMARY KEY,                    -- the opaque value the tool must echo
    course_id TEXT NOT NULL REFERENCES courses(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    created_dt TEXT NOT NULL,
    used_dt TEXT
);
CREATE TABLE IF NOT EXISTS access_tokens (
    token TEXT PRIMARY KEY,
    scopes TEXT NOT NULL,
    expires_s INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS assertion_jtis (
    jti TEXT PRIMARY KEY,
    expires_s INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS registration_tokens (
    jti TEXT PRIMARY KEY,                     -- of the registration token JWT, issued here
    expires_s INTEGER NOT NULL,
    used_dt TEXT                              -- set when a tool registered with it: single use
);
CREATE TABLE IF NOT EXISTS tool_registrations (
    client_id TEXT PRIMARY KEY,               -- made by Dynamic Registration
    profile TEXT NOT NULL DEFAULT 'moodle',   -- the profile (moodle, canvas) that registered it
    deployment_id TEXT NOT NULL UNIQUE,       -- Moodle's tool type id
    tool_json TEXT NOT NULL,                  -- login, redirect, target, JWKS and deep link URLs
    registration_json TEXT NOT NULL,          -- the client registration as the tool posted it
    created_dt TEXT NOT NULL
);
"""

#: Tables emptied when the seed changes; children first because of the foreign keys.
DATA_TABLES = (
    "tool_registrations", "registration_tokens", "assertion_jtis", "access_tokens",
    "deep_link_requests", "launches", "grades", "scores", "line_items", "activities",
    "enrolments", "courses", "users", "meta",
)

MEMBERS_SQL = (
    "SELECT u.id, u.username, u.given_name, u.family_name, u.email, e.role, e.observes"
    " FROM enrolments e JOIN users u ON u.id = e.user_id WHERE e.course_id = ?"
)
#: Observers exist in Canvas only; Moodle's LTI knows instructors and learners.
NO_OBSERVERS = " AND e.role != 'Mentor'"


def utc_now() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


def iso_utc(moment: datetime | None = None) -> str:
    """An ISO 8601 UTC timestamp at second resolution, e.g. 2026-11-25T18:52:21+00:00."""
    return (moment or utc_now()).astimezone(UTC).replace(microsecond=0).isoformat()


class Store:
    """One SQLite file; every unit of work opens its own connection, so threads never share one."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / DB_FILE
        with self._connect() as conn:
            # WAL lets the console read while a service call writes.
            conn.execute("PRAGMA journal_mode=WAL")
            if _schema_version(conn) not in (None, SCHEMA_VERSION):
                _drop_everything(conn)
            conn.executescript(SCHEMA)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)",
                         (SCHEMA_VERSION,))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        # A development platform: in WAL mode NORMAL still keeps the file consistent, and not
        # waiting for the disk on every commit lets it answer a tool's burst of scores.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for queries."""
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; IMMEDIATE so check-then-write rules (single use, 409) are atomic."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def reset(self) -> None:
        """Delete every row (used when the seed changes)."""
        with self.write() as conn:
            for table in DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")  # table names are constants above
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
            conn.execute("DELETE FROM sqlite_sequence")

    def get_meta(self, key: str) -> str | None:
        """A value from the meta table."""
        with self.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    # Site directory: courses, users, enrolments, activities.

    def courses(self) -> list[dict]:
        """Every course, in seeding order."""
        with self.read() as conn:
            rows = conn.execute("SELECT id, label, title FROM courses ORDER BY position").fetchall()
        return [dict(row) for row in rows]

    def course(self, course_id: str) -> dict | None:
        """One course or None."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT id, label, title FROM courses WHERE id = ?", (str(course_id),)
            ).fetchone()
        return dict(row) if row else None

    def members(self, course_id: str, *, observers: bool = False) -> list[dict]:
        """Users enrolled in a course with their role; learners first, then by user id.
        Observers (Canvas only) are left out unless asked for."""
        sql = MEMBERS_SQL + ("" if observers else NO_OBSERVERS)
        with self.read() as conn:
            rows = conn.execute(
                sql + " ORDER BY e.role = 'Mentor', e.role DESC, CAST(u.id AS INTEGER)",
                (str(course_id),),
            ).fetchall()
        return [_user_dict(row) for row in rows]

    def member(self, course_id: str, user_id: str, *, observers: bool = False) -> dict | None:
        """One enrolled user with their role, or None when not enrolled."""
        sql = MEMBERS_SQL + ("" if observers else NO_OBSERVERS)
        with self.read() as conn:
            row = conn.execute(
                sql + " AND e.user_id = ?", (str(course_id), str(user_id))
            ).fetchone()
        return _user_dict(row) if row else None

    def activities(self, course_id: str) -> list[dict]:
        """A course's tool activities, oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM activities WHERE course_id = ? ORDER BY id", (str(course_id),)
            ).fetchall()
        return [_activity_dict(row) for row in rows]

    def activity(self, activity_id: str | int) -> dict | None:
        """An activity by instance id (= resource_link.id), or None."""
        return self._activity_where("id", activity_id)

    def activity_by_cmid(self, cmid: str | int) -> dict | None:
        """An activity by course module id, or None."""
        return self._activity_where("cmid", cmid)

    def _activity_where(self, column: str, value: str | int) -> dict | None:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        with self.read() as conn:
            # column is "id" or "cmid", never user input.
            row = conn.execute(f"SELECT * FROM activities WHERE {column} = ?", (number,)).fetchone()
        return _activity_dict(row) if row else None


def insert_activity(
    conn: sqlite3.Connection,
    course_id: str,
    title: str,
    *,
    description: str = "",
    url: str | None = None,
    custom: dict | None = None,
) -> tuple[int, int]:
    """Add an activity inside the caller's transaction; returns (instance id, cmid)."""
    # Moodle's course module ids run ahead of instance ids; keeping them apart catches
    # tools that confuse cmid with resource_link.id.
    next_cmid = conn.execute("SELECT COALESCE(MAX(cmid), 1) + 1 FROM activities").fetchone()[0]
    cursor = conn.execute(
        "INSERT INTO activities (cmid, course_id, title, description, url, custom_json, created_dt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (next_cmid, course_id, title, description, url, json.dumps(custom or {}), iso_utc()),
    )
    return cursor.lastrowid, next_cmid


def _user_dict(row: sqlite3.Row) -> dict:
    user = {key: row[key] for key in ("id", "username", "given_name", "family_name", "email")}
    user["name"] = f"{row['given_name']} {row['family_name']}"
    user["role"] = row["role"]
    if row["observes"]:
        user["observes"] = row["observes"]
    return user


def _schema_version(conn: sqlite3.Connection) -> str | None:
    """The version a store was made with; None for a new file."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return row[0] if row else "1"


def _drop_everything(conn: sqlite3.Connection) -> None:
    """Drop every table of an older store (children first, as foreign keys want)."""
    conn.execute("PRAGMA foreign_keys=OFF")
    for table in DATA_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")  # table names are constants
    conn.execute("PRAGMA foreign_keys=ON")


def _activity_dict(row: sqlite3.Row) -> dict:
    activity = dict(row)
    activity["custom"] = json.loads(activity.pop("custom_json"))
    activity["resource_link_id"] = str(activity["id"])
    return activity
