"""Deterministic seed data: courses, one instructor each, learners with varied names."""

from __future__ import annotations

import json
import sqlite3
import unicodedata

from .config import DEFAULT_ACTIVITY_TITLE
from .gradebook import insert_line_item
from .store import Store, insert_activity

# Names from many places, with accents, apostrophes and hyphens on purpose: the tool must
# escape and store them correctly.
GIVEN_NAMES = (
    "Amara", "Lukas", "Sofía", "Hiroshi", "Chloé", "Mateo", "Aisha", "Oliver", "Priya", "Jonas",
    "Fatima", "Liam", "Mei", "Noah", "Zoë", "Kwame", "Elena", "Rafael", "Ingrid", "Omar",
    "Yuki", "Sean", "Leila", "Tomasz", "Ana", "Dmitri", "Grace", "Arjun", "Nadia", "Felix",
    "Chiara", "Emeka", "Hannah", "Javier", "Sanna", "Tariq", "Isabel", "Kenji", "Maeve", "Ravi",
)
FAMILY_NAMES = (
    "Okafor", "Müller", "García", "Tanaka", "Dubois", "Rossi", "Rahman", "Smith", "Raman",
    "Jensen", "Haddad", "O'Connor", "Chen", "Williams", "Lefèvre", "Mensah", "Popescu", "Silva",
    "Lindqvist", "Farouk", "Sato", "Murphy", "Karimi", "Kowalski", "Pereira", "Ivanov",
    "Adeyemi", "Patel", "Novak", "Becker", "Bianchi", "Nwosu", "Smith-Jones", "Fernández",
    "Virtanen", "Aziz", "Costa", "Yamamoto", "Byrne", "Iyer",
)
DEFAULT_INSTRUCTOR = {"given_name": "Terry", "family_name": "Teacher", "username": "teacher1"}
#: A parent who observes a course's first learner: Canvas's "observer" enrolment (LIS Mentor).
OBSERVER = {"given_name": "Olive", "family_name": "Observer"}
OTHER_INSTRUCTORS = (("Tessa", "Tutor"), ("Marcus", "Mentor"), ("Petra", "Professor"))
#: Moodle's admin is user 2; enrolled users start at 3, as on the observed instance.
FIRST_USER_ID = 3
SEED_KEY = "seed"


def learner_identity(index: int) -> dict:
    """The index-th learner (0-based): same name every time, unique for the first 1,600."""
    given = GIVEN_NAMES[index % len(GIVEN_NAMES)]
    # Stepping the family name by a stride coprime with 40, plus one per lap, pairs every
    # given name with a different family name on each lap.
    family = FAMILY_NAMES[(index * 17 + index // len(GIVEN_NAMES)) % len(FAMILY_NAMES)]
    local = f"{_ascii(given)}.{_ascii(family)}"
    if index >= len(GIVEN_NAMES) * len(FAMILY_NAMES):
        local += str(index)
    return {
        "given_name": given,
        "family_name": family,
        "username": f"student{index + 1}",
        "email": f"{local}@example.com",
    }


def seed_if_needed(store: Store, courses: tuple[dict, ...], learners: int) -> None:
    """Seed an empty store; a store seeded from other settings is emptied and seeded again."""
    fingerprint = json.dumps({"courses": courses, "learners": learners}, sort_keys=True)
    if store.get_meta(SEED_KEY) == fingerprint:
        return
    store.reset()
    with store.write() as conn:
        # Line item 1 is the course total in Moodle; starting at 2 keeps line item ids
        # distinct from resource link ids, which catches tools that mix them up.
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('line_items', 1)")
        next_user = FIRST_USER_ID
        next_learner = 0
        for position, course in enumerate(courses):
            course_id = str(course["id"])
            conn.execute(
                "INSERT INTO courses (id, label, title, position) VALUES (?, ?, ?, ?)",
                (course_id, course.get("label", f"C{course_id}"),
                 course.get("title", f"Course {course_id}"), position),
            )
            instructor = _instructor_for(course, position)
            _add_user(conn, str(next_user), instructor)
            _enrol(conn, course_id, str(next_user), "Instructor")
            next_user += 1
            for _ in range(int(course.get("learners", learners))):
                _add_user(conn, str(next_user), learner_identity(next_learner))
                _enrol(conn, course_id, str(next_user), "Learner")
                next_user += 1
                next_learner += 1
            for user_id in course.get("also_enrol", ()):
                _enrol(conn, course_id, str(user_id), "Learner")
            title = course.get("activity_title", DEFAULT_ACTIVITY_TITLE)
            activity_id, _ = insert_activity(
                conn, course_id, title,
                description="A Design Thinking mindset questionnaire with mentoring.",
            )
            insert_line_item(
                conn, course_id, label=title, score_maximum=100, resource_link_id=activity_id
            )
        # Observers come last, so that every other user keeps the id it always had.
        for position, course in enumerate(courses):
            first_learner = conn.execute(
                "SELECT user_id FROM enrolments WHERE course_id = ? AND role = 'Learner'"
                " ORDER BY CAST(user_id AS INTEGER) LIMIT 1", (str(course["id"]),),
            ).fetchone()
            if first_learner is None:
                continue
            observer = {**OBSERVER, "username": f"observer{position + 1}"}
            observer["email"] = f"{observer['username']}@example.com"
            _add_user(conn, str(next_user), observer)
            conn.execute(
                "INSERT INTO enrolments (course_id, user_id, role, observes)"
                " VALUES (?, ?, 'Mentor', ?)",
                (str(course["id"]), str(next_user), first_learner[0]),
            )
            next_user += 1
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (SEED_KEY, fingerprint))


def _instructor_for(course: dict, position: int) -> dict:
    if course.get("instructor"):
        instructor = dict(course["instructor"])
    elif position == 0:
        instructor = dict(DEFAULT_INSTRUCTOR)
    else:
        given, family = OTHER_INSTRUCTORS[(position - 1) % len(OTHER_INSTRUCTORS)]
        instructor = {"given_name": given, "family_name": family}
    instructor.setdefault("username", f"teacher{position + 1}")
    instructor.setdefault("email", f"{instructor['username']}@example.com")
    return instructor


def _add_user(conn: sqlite3.Connection, user_id: str, identity: dict) -> None:
    conn.execute(
        "INSERT INTO users (id, username, given_name, family_name, email) VALUES (?, ?, ?, ?, ?)",
        (user_id, identity["username"], identity["given_name"], identity["family_name"],
         identity["email"]),
    )


def _enrol(conn: sqlite3.Connection, course_id: str, user_id: str, role: str) -> None:
    conn.execute(
        "INSERT INTO enrolments (course_id, user_id, role) VALUES (?, ?, ?)",
        (course_id, user_id, role),
    )


def _ascii(name: str) -> str:
    """Lower-case ASCII for an e-mail address: Müller → muller, O'Connor → oconnor."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum() or ch == "-")
