"""Line items and scores with Moodle 4.5's rules; raises domain errors, knows nothing of HTTP."""

from __future__ import annotations

import math
import re
import sqlite3
from datetime import UTC, datetime

from .store import Store, iso_utc

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")
# ISO 8601 with a zone, as Moodle's validate_iso8601_date wants; fractional seconds optional.
ISO_WITH_ZONE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})"
)


class GradebookError(Exception):
    """Base of the gradebook's refusals; the message says what was wrong."""


class InvalidLineItem(GradebookError):
    """A line item body that breaks the AGS rules."""


class LineItemNotFound(GradebookError):
    """No such line item in this course."""


class InvalidScore(GradebookError):
    """A score body that breaks the AGS rules (missing field, bad value)."""


class NotGradable(GradebookError):
    """The score's user is not a learner in the course (Moodle answers 400 with ``[]``)."""


class StaleScore(GradebookError):
    """The timestamp is not strictly later, in whole seconds, than the stored one (409)."""


def parse_timestamp(value: object, field: str = "timestamp") -> datetime:
    """An aware datetime from an ISO 8601 string that carries a zone."""
    if not isinstance(value, str) or not ISO_WITH_ZONE.fullmatch(value):
        raise InvalidScore(f"{field} must be ISO 8601 with a time zone, got {value!r}")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidScore(f"{field} is not a valid date: {value!r}") from exc


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def plain_number(value: float | None) -> float | int | None:
    """100.0 → 100, so JSON shows scores the way Moodle does."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value


# Line items.

def line_items(
    store: Store,
    course_id: str,
    *,
    resource_link_id: str | None = None,
    resource_id: str | None = None,
    tag: str | None = None,
) -> list[dict]:
    """A course's line items, optionally filtered as the AGS GET allows."""
    sql = "SELECT * FROM line_items WHERE course_id = ?"
    params: list = [str(course_id)]
    for column, value in (("resource_link_id", resource_link_id), ("resource_id", resource_id),
                          ("tag", tag)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    with store.read() as conn:
        rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    return [_line_item_dict(row) for row in rows]


def line_item(store: Store, course_id: str, item_id: str | int) -> dict:
    """One line item of this course, or LineItemNotFound."""
    with store.read() as conn:
        row = _line_item_row(conn, course_id, item_id)
    return _line_item_dict(row)


def insert_line_item(
    conn: sqlite3.Connection,
    course_id: str,
    *,
    label: str,
    score_maximum: float,
    resource_link_id: int | None = None,
    resource_id: str = "",
    tag: str = "",
    start_dt: str | None = None,
    end_dt: str | None = None,
) -> int:
    """Add a line item inside the caller's transaction; returns its id."""
    cursor = conn.execute(
        "INSERT INTO line_items (course_id, resource_link_id, label, score_maximum,"
        " resource_id, tag, start_dt, end_dt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (str(course_id), resource_link_id, label, float(score_maximum), resource_id, tag,
         start_dt, end_dt),
    )
    return cursor.lastrowid


def create_line_item(store: Store, course_id: str, body: object) -> dict:
    """Add a line item from an AGS POST body."""
    values = _line_item_values(store, course_id, body)
    with store.write() as conn:
        item_id = insert_line_item(conn, course_id, **values)
        row = _line_item_row(conn, course_id, item_id)
    return _line_item_dict(row)


def update_line_item(store: Store, course_id: str, item_id: str | int, body: object) -> dict:
    """Replace a line item's fields from an AGS PUT body."""
    values = _line_item_values(store, course_id, body)
    with store.write() as conn:
        current = _line_item_row(conn, course_id, item_id)
        if body.get("resourceLinkId") is None:
            values["resource_link_id"] = current["resource_link_id"]
        conn.execute(
            "UPDATE line_items SET resource_link_id = ?, label = ?, score_maximum = ?,"
            " resource_id = ?, tag = ?, start_dt = ?, end_dt = ? WHERE id = ?",
            (values["resource_link_id"], values["label"], values["score_maximum"],
             values["resource_id"], values["tag"], values["start_dt"], values["end_dt"],
             current["id"]),
        )
        row = _line_item_row(conn, course_id, item_id)
    return _line_item_dict(row)


def delete_line_item(store: Store, course_id: str, item_id: str | int) -> None:
    """Remove a line item with its scores and grades."""
    with store.write() as conn:
        current = _line_item_row(conn, course_id, item_id)
        conn.execute("DELETE FROM line_items WHERE id = ?", (current["id"],))


def line_item_fields(body: object, *, default_label: str | None = None) -> dict:
    """Columns from an AGS line item (or a Deep Linking lineItem); InvalidLineItem if wrong."""
    if not isinstance(body, dict):
        raise InvalidLineItem("a line item must be a JSON object")
    label = body.get("label") or default_label
    if not isinstance(label, str) or not label.strip():
        raise InvalidLineItem("label is required")
    maximum = body.get("scoreMaximum")
    if not _number(maximum) or maximum <= 0:
        raise InvalidLineItem("scoreMaximum must be a number greater than 0")
    for field in ("resourceId", "tag"):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise InvalidLineItem(f"{field} must be a string")
    for field in ("startDateTime", "endDateTime"):
        if body.get(field) is not None:
            try:
                parse_timestamp(body[field], field)
            except InvalidScore as exc:
                raise InvalidLineItem(str(exc)) from exc
    return {
        "label": label,
        "score_maximum": float(maximum),
        "resource_id": body.get("resourceId") or "",
        "tag": body.get("tag") or "",
        "start_dt": body.get("startDateTime"),
        "end_dt": body.get("endDateTime"),
    }


def _line_item_values(store: Store, course_id: str, body: object) -> dict:
    """line_item_fields plus resourceLinkId, which must name an activity of this course."""
    values = line_item_fields(body)
    link = body.get("resourceLinkId")
    if link is not None:
        activity = store.activity(link) if isinstance(link, str) else None
        if activity is None or activity["course_id"] != str(course_id):
            raise InvalidLineItem(f"resourceLinkId {link!r} is not an activity of this course")
        link = activity["id"]
    values["resource_link_id"] = link
    return values


def _line_item_row(conn: sqlite3.Connection, course_id: str, item_id: str | int) -> sqlite3.Row:
    try:
        number = int(item_id)
    except (TypeError, ValueError):
        raise LineItemNotFound(f"no line item {item_id!r}") from None
    row = conn.execute(
        "SELECT * FROM line_items WHERE id = ? AND course_id = ?", (number, str(course_id))
    ).fetchone()
    if row is None:
        raise LineItemNotFound(f"no line item {item_id!r} in course {course_id}")
    return row


def _line_item_dict(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "course_id": row["course_id"],
        "label": row["label"],
        "scoreMaximum": plain_number(row["score_maximum"]),
        "resourceId": row["resource_id"],
        "tag": row["tag"],
        "resourceLinkId": "" if row["resource_link_id"] is None else str(row["resource_link_id"]),
        "startDateTime": row["start_dt"],
        "endDateTime": row["end_dt"],
    }


# Scores.

def record_score(store: Store, course_id: str, item_id: str | int, body: object) -> None:
    """Accept one AGS score as Moodle 4.5 does, or raise why not."""
    score = _validated_score(body)
    member = store.member(course_id, score["userId"])
    if member is None or member["role"] != "Learner":
        raise NotGradable(f"user {score['userId']!r} is not a learner in course {course_id}")
    moment = parse_timestamp(score["timestamp"])
    # Moodle keeps whole seconds (strtotime), so two scores in one second collide.
    timestamp_s = math.floor(moment.timestamp())
    with store.write() as conn:
        item = _line_item_row(conn, course_id, item_id)
        grade = conn.execute(
            "SELECT last_timestamp_s, score_id FROM grades WHERE line_item_id = ? AND user_id = ?",
            (item["id"], score["userId"]),
        ).fetchone()
        if grade is not None and grade["last_timestamp_s"] >= timestamp_s:
            raise StaleScore(
                f"refusing score with an earlier timestamp for item {item['id']} and user "
                f"{score['userId']}: {score['timestamp']} is not after "
                f"{iso_utc(datetime.fromtimestamp(grade['last_timestamp_s'], UTC))}"
            )
        cursor = conn.execute(
            "INSERT INTO scores (line_item_id, user_id, score_given, score_maximum, comment,"
            " timestamp, timestamp_s, activity_progress, grading_progress, received_dt)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item["id"], score["userId"], score.get("scoreGiven"), score.get("scoreMaximum"),
             score.get("comment"), score["timestamp"], timestamp_s, score["activityProgress"],
             score["gradingProgress"], iso_utc()),
        )
        # Only FullyGraded changes the grade; every accepted score moves the timestamp.
        if score["gradingProgress"] == "FullyGraded":
            current_score_id = cursor.lastrowid
        else:
            current_score_id = grade["score_id"] if grade is not None else None
        conn.execute(
            "INSERT INTO grades (line_item_id, user_id, last_timestamp_s, score_id)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (line_item_id, user_id) DO UPDATE SET"
            " last_timestamp_s = excluded.last_timestamp_s, score_id = excluded.score_id",
            (item["id"], score["userId"], timestamp_s, current_score_id),
        )


def _validated_score(body: object) -> dict:
    if not isinstance(body, dict):
        raise InvalidScore("the body must be a JSON object")
    if not isinstance(body.get("userId"), str) or not body["userId"]:
        raise InvalidScore("userId must be a non-empty string")
    if "timestamp" not in body:
        raise InvalidScore("timestamp is required")
    parse_timestamp(body["timestamp"])
    if body.get("activityProgress") not in ACTIVITY_PROGRESS:
        raise InvalidScore(f"activityProgress must be one of {', '.join(ACTIVITY_PROGRESS)}")
    if body.get("gradingProgress") not in GRADING_PROGRESS:
        raise InvalidScore(f"gradingProgress must be one of {', '.join(GRADING_PROGRESS)}")
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None:
        if not _number(given) or given < 0:
            raise InvalidScore("scoreGiven must be a number, 0 or more")
        if maximum is None:
            raise InvalidScore("scoreMaximum is required when scoreGiven is present")
    if maximum is not None and (not _number(maximum) or maximum <= 0):
        raise InvalidScore("scoreMaximum must be a number greater than 0")
    if body.get("comment") is not None and not isinstance(body["comment"], str):
        raise InvalidScore("comment must be a string")
    return body


def results(store: Store, course_id: str, item_id: str | int, user_id: str | None = None) -> list:
    """The current grades of a line item (one per user), rescaled to its scoreMaximum."""
    item = line_item(store, course_id, item_id)
    sql = (
        "SELECT s.* FROM grades g JOIN scores s ON s.id = g.score_id"
        " WHERE g.line_item_id = ?"
    )
    params: list = [item["id"]]
    if user_id is not None:
        sql += " AND g.user_id = ?"
        params.append(user_id)
    with store.read() as conn:
        rows = conn.execute(sql + " ORDER BY CAST(s.user_id AS INTEGER)", params).fetchall()
    return [_score_dict(row, item) for row in rows]


def note_score_post(store: Store, course_id: str, item_id: str, body: object,
                    status: int) -> None:
    """Log one score POST as received, whatever the answer (`status`)."""
    body = body if isinstance(body, dict) else {}
    user_id, timestamp = body.get("userId"), body.get("timestamp")
    with store.write() as conn:
        conn.execute(
            "INSERT INTO score_posts (course_id, line_item_id, user_id, timestamp, status,"
            " received_dt) VALUES (?, ?, ?, ?, ?, ?)",
            (str(course_id), str(item_id), None if user_id is None else str(user_id),
             None if timestamp is None else str(timestamp), status, iso_utc()),
        )


def score_posts(store: Store, course_id: str) -> list[dict]:
    """Every score POST received for a course's line items, oldest first, with the answer."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT line_item_id, user_id, timestamp, status, received_dt FROM score_posts"
            " WHERE course_id = ? ORDER BY id", (str(course_id),),
        ).fetchall()
    return [{"lineItemId": row["line_item_id"], "userId": row["user_id"],
             "timestamp": row["timestamp"], "status": row["status"],
             "received": row["received_dt"]} for row in rows]


def gradebook(store: Store, course_id: str) -> list[dict]:
    """Every line item of a course with its current scores and the full score history."""
    items = line_items(store, course_id)
    with store.read() as conn:
        current_ids = {
            row["score_id"]
            for row in conn.execute(
                "SELECT g.score_id FROM grades g JOIN line_items li ON li.id = g.line_item_id"
                " WHERE li.course_id = ? AND g.score_id IS NOT NULL",
                (str(course_id),),
            )
        }
        history = conn.execute(
            "SELECT s.* FROM scores s JOIN line_items li ON li.id = s.line_item_id"
            " WHERE li.course_id = ? ORDER BY s.id",
            (str(course_id),),
        ).fetchall()
    for item in items:
        rows = [row for row in history if row["line_item_id"] == item["id"]]
        item["history"] = [_score_dict(row, item) for row in rows]
        item["scores"] = sorted(
            (_score_dict(row, item) for row in rows if row["id"] in current_ids),
            key=lambda score: int(score["userId"]),
        )
    return items


def _score_dict(row: sqlite3.Row, item: dict) -> dict:
    given, maximum = row["score_given"], row["score_maximum"]
    grade = None
    if given is not None and maximum:
        # Moodle rescales to the grade item's maximum: 4/5 on a 100-point item is 80.
        grade = round(given / maximum * float(item["scoreMaximum"]), 5)
    return {
        "userId": row["user_id"],
        "scoreGiven": plain_number(given),
        "scoreMaximum": plain_number(maximum),
        "grade": plain_number(grade),
        "comment": row["comment"],
        "timestamp": row["timestamp"],
        "gradedAt": iso_utc(datetime.fromtimestamp(row["timestamp_s"], UTC)),
        "activityProgress": row["activity_progress"],
        "gradingProgress": row["grading_progress"],
        "receivedAt": row["received_dt"],
    }
