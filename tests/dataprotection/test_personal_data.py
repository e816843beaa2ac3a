"""Export, erase and retention: everything about a person goes, except one audit entry."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, text, update

from lti_tool.dataprotection import personal_data
from lti_tool.extensions import db
from lti_tool.gradebook.models import ScoreRecord
from lti_tool.identity.audit import AuditEntry
from lti_tool.identity.models import Person, utcnow
from lti_tool.lti.session import load_context
from lti_tool.mentoring.models import (
    ActionItem,
    ActionOwner,
    AgendaKind,
    AgendaPart,
    Goal,
    GoalCheckIn,
    MeetingMode,
    MentoringSession,
    Note,
    NoteVisibility,
    ReflectionKind,
    SessionReflection,
    TimezonePreference,
)
from lti_tool.mentoring.programme.models import (
    AssignmentSource,
    MentorAssignment,
    SessionRating,
)
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.models import Answer, Attempt, Result
from lti_tool.questionnaire.versions import current_instrument


def _submit_everything(app, token: str) -> None:
    with app.test_request_context():
        launch = load_context(token)
        attempt = delivery.open_attempt(launch)
        for page, items in enumerate(current_instrument().pages()):
            values = {i.id: str(i.attention_check_expected or 5) for i in items}
            if page < len(current_instrument().pages()) - 1:
                delivery.save_page(attempt, page, values, 20, move_to=page + 1)
            else:
                delivery.submit(attempt, page, values, 20)
        db.session.commit()


def _mentoring(app, learner_id: int, mentor_id: int, course_id: int, *, start_days: int = 3):
    with app.app_context():
        start = utcnow() + timedelta(days=start_days)
        session = MentoringSession(
            uid=f"s-{learner_id}-{start_days}@test", course_id=course_id, mentor_id=mentor_id,
            learner_id=learner_id, start_dt=start, end_dt=start + timedelta(minutes=90),
            mode=MeetingMode.ONLINE, meeting_url="https://meet.example/x",
            agenda="Empathy", learner_questions="How do I start?", created_by_id=mentor_id,
        )
        db.session.add(session)
        db.session.flush()
        db.session.add_all([
            Note(session_id=session.id, author_id=mentor_id, visibility=NoteVisibility.LEARNER,
                 body="Shared: try three interviews"),
            Note(session_id=session.id, author_id=mentor_id, visibility=NoteVisibility.MENTORS,
                 body="PRIVATE-NOTE-TEXT seems anxious"),
            Note(session_id=session.id, author_id=mentor_id, visibility=NoteVisibility.AUTHOR,
                 body="AUTHOR-ONLY-TEXT my own reminder"),
        ])
        part = AgendaPart(session_id=session.id, position=0, kind=AgendaKind.OPENING,
                          title="Opening", minutes=10)
        db.session.add(part)
        db.session.flush()
        db.session.add(Note(session_id=session.id, author_id=mentor_id, agenda_part_id=part.id,
                            visibility=NoteVisibility.MENTORS, body="PART-NOTE-TEXT"))
        attempt_id = db.session.scalar(select(Attempt.id).where(
            Attempt.person_id == learner_id))
        goal = Goal(course_id=course_id, learner_id=learner_id, created_by_id=mentor_id,
                    title="Listen more", dimension_ids=["empathy"], session_id=session.id,
                    source_attempt_id=attempt_id, target_date=date.today() + timedelta(days=30))
        db.session.add(goal)
        db.session.flush()
        db.session.add(ActionItem(goal_id=goal.id, title="Interview a user",
                                  owner=ActionOwner.LEARNER))
        db.session.add(SessionRating(session_id=session.id, learner_id=learner_id, rating=4,
                                     helped="WHAT-HELPED-TEXT drawing it out"))
        db.session.add(MentorAssignment(course_id=course_id, learner_id=learner_id,
                                        mentor_id=mentor_id, assigned_by_id=mentor_id,
                                        source=AssignmentSource.HAND))
        db.session.add(GoalCheckIn(goal_id=goal.id, author_id=learner_id,
                                   by=ActionOwner.LEARNER, progress=30,
                                   note="CHECKIN-TEXT two interviews"))
        db.session.add(SessionReflection(session_id=session.id, learner_id=learner_id,
                                         kind=ReflectionKind.BEFORE, text="REFLECTION-TEXT",
                                         ratings={"empathy": {"rating": 6, "text": "ok"}}))
        db.session.commit()


@pytest.fixture
def rich(app, driver, tool_server):
    """A learner with answers, a result, a score record, a session, notes, goals, audit."""
    learner_user = driver.user("Learner")
    learner = driver.launch(learner_user["id"])
    mentor = driver.launch(driver.user("Instructor")["id"])
    _submit_everything(app, learner.token)
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.sub == learner_user["id"]))
        mentor_person = db.session.scalar(
            select(Person).where(Person.sub == driver.user("Instructor")["id"]))
        course_id = db.session.scalar(select(Attempt.course_id))
        db.session.add(TimezonePreference(person_id=person.id, timezone="Europe/Warsaw"))
        db.session.commit()
        ids = (person.id, mentor_person.id, course_id)
    _mentoring(app, ids[0], ids[1], ids[2])
    # The mentor opens the learner's page: the audit log records it.
    seen = requests.get(f"{tool_server.url}/mentor/learners/{ids[0]}",
                        params={"lt": mentor.token})
    assert seen.status_code == 200
    return {"person_id": ids[0], "mentor_id": ids[1], "course_id": ids[2],
            "user": learner_user, "learner_token": learner.token, "mentor_token": mentor.token}


def test_mentor_views_are_audited(app, rich):
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.subject_person_id == rich["person_id"])).all()
    assert any(e.action == "GET mentoring.learner_page" and
               e.actor_person_id == rich["mentor_id"] for e in entries)


def test_export_holds_everything(app, rich):
    result = app.test_cli_runner().invoke(args=["data", "export", "--person",
                                                str(rich["person_id"])])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["person"]["email"] == rich["user"]["email"]
    [attempt] = document["questionnaire_attempts"]
    assert len(attempt["answers"]) == len(current_instrument().items)
    assert attempt["result"]["overall"] > 0
    assert document["grade_deliveries"]
    [session] = document["mentoring_sessions"]
    # Notes for their author alone are in no export, not even the operator's.
    assert {n["visibility"] for n in session["notes"]} == {"learner", "mentors"}
    assert "AUTHOR-ONLY-TEXT" not in result.output
    assert document["goals"][0]["actions"][0]["title"] == "Interview a user"
    assert document["session_ratings"][0]["helped"] == "WHAT-HELPED-TEXT drawing it out"
    assert document["assigned_mentors"][0]["mentor_id"] == rich["mentor_id"]
    assert document["goals"][0]["check_ins"][0]["note"] == "CHECKIN-TEXT two interviews"
    assert document["session_reflections"][0]["text"] == "REFLECTION-TEXT"
    assert any(e["action"] == "GET mentoring.learner_page" for e in document["audit_entries"])


def test_the_learners_own_download_leaves_out_private_notes(app, rich, tool_server):
    response = requests.get(tool_server.url + "/my-data.json",
                            params={"lt": rich["learner_token"]})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    document = response.json()
    assert "PRIVATE-NOTE-TEXT" not in response.text and "PART-NOTE-TEXT" not in response.text
    assert "AUTHOR-ONLY-TEXT" not in response.text
    assert "REFLECTION-TEXT" in response.text and "CHECKIN-TEXT" in response.text
    assert document["mentoring_sessions"][0]["notes"][0]["body"].startswith("Shared")
    assert "audit_entries" not in document


def _every_row(app):
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                yield table, dict(row._mapping)


def test_erase_leaves_no_trace_but_the_audit_entry(app, rich):
    person_id, user = rich["person_id"], rich["user"]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["data", "export", "--person", str(person_id)]).exit_code == 0
    result = runner.invoke(args=["data", "erase", "--person", str(person_id), "--yes"])
    assert result.exit_code == 0, result.output
    traces = []
    erase_entries = []
    for table, row in _every_row(app):
        if table.name == "audit_entry" and row["action"] == "data.erase":
            erase_entries.append(row)
            continue
        for column in table.columns:
            value = row[column.key]
            refers_to_person = any(fk.column.table.name == "person" for fk in column.foreign_keys)
            if (refers_to_person or column.key.endswith("person_id")) and value == person_id:
                traces.append((table.name, column.key))
        text_of_row = json.dumps(row, default=str)
        for secret in (user["email"], user["name"], user["family_name"], "How do I start?",
                       "PRIVATE-NOTE-TEXT", "AUTHOR-ONLY-TEXT", "Listen more", "Europe/Warsaw",
                       "WHAT-HELPED-TEXT", "CHECKIN-TEXT", "REFLECTION-TEXT", "PART-NOTE-TEXT"):
            if secret in text_of_row:
                traces.append((table.name, secret))
    assert traces == []
    [entry] = erase_entries
    assert entry["detail"]["erased_person_id"] == person_id
    assert entry["detail"]["operator"] == "flask data erase"
    # What went, counted (the entry's only content beyond the id): one attempt with every
    # answer, its result and score, the session with its four notes (one in an agenda part),
    # the goal and action.
    counts = entry["detail"]["counts"]
    assert {k: counts[k] for k in ("answers", "results", "attempts", "grade_deliveries",
                                   "notes", "mentoring_sessions", "goals", "actions",
                                   "time_zone", "memberships")} == {
        "answers": len(current_instrument().items), "results": 1, "attempts": 1,
        "grade_deliveries": 1, "notes": 4, "mentoring_sessions": 1, "goals": 1, "actions": 1,
        "time_zone": 1, "memberships": 1}
    assert counts["launch_sessions"] >= 1 and counts["audit_entries_about"] >= 1
    # The mentor is untouched.
    with app.app_context():
        assert db.session.get(Person, rich["mentor_id"]) is not None


def test_erasing_a_mentor_keeps_the_learners_records(app, rich):
    with app.app_context():
        counts = personal_data.erase_person(rich["mentor_id"])
        db.session.commit()
        session = db.session.scalar(select(MentoringSession))
        goal = db.session.scalar(select(Goal))
        placeholder = db.session.get(Person, session.mentor_id)
    assert counts["authorship_reassigned"] >= 2
    # The note the mentor kept for themself has no other reader: it went with them.
    assert counts["notes"] == 1
    with app.app_context():
        assert {n.visibility for n in db.session.scalars(select(Note))} == {
            NoteVisibility.LEARNER, NoteVisibility.MENTORS}
    assert session.learner_id == rich["person_id"] and goal is not None
    assert placeholder.sub.startswith(personal_data.ERASED_PREFIX) and placeholder.email is None
    assert placeholder.name == "Erased person"


def test_erasing_one_learner_keeps_every_other_learners_records(app, rich, driver):
    other = driver.launch(driver.user("Learner", 2)["id"])
    _submit_everything(app, other.token)

    def held() -> dict[str, int]:
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Attempt, Answer, Result, ScoreRecord)}

    with app.app_context():
        before = held()
        counts = personal_data.erase_person(rich["person_id"])
        db.session.commit()
        after = held()
    items = len(current_instrument().items)
    assert before == {"Attempt": 2, "Answer": 2 * items, "Result": 2, "ScoreRecord": 2}
    assert after == {"Attempt": 1, "Answer": items, "Result": 1, "ScoreRecord": 1}
    assert counts["grade_deliveries"] == 1


def _others_rows(app, person_id: int) -> dict[str, list[str]]:
    """Every row that does not refer to `person_id` or their attempts, by table (audit
    entries and erased placeholders aside: erasure adds those)."""
    with app.app_context():
        attempts = set(db.session.scalars(select(Attempt.id).where(
            Attempt.person_id == person_id)))
    rows: dict[str, list[str]] = {}
    for table, row in _every_row(app):
        if table.name in ("answer", "result") and row["attempt_id"] in attempts:
            continue
        if table.name == "audit_entry" or str(row.get("sub", "")).startswith(
                personal_data.ERASED_PREFIX):
            continue
        refers = any(value == person_id for key, value in row.items()
                     if key == "person_id" or key.endswith("_id") and key != "id"
                     and any(fk.column.table.name == "person"
                             for fk in table.columns[key].foreign_keys))
        if not refers and not (table.name == "person" and row["id"] == person_id):
            rows.setdefault(table.name, []).append(json.dumps(row, default=str, sort_keys=True))
    return {name: sorted(found) for name, found in rows.items()}


def test_erasing_one_person_changes_nothing_of_anyone_else(app, rich, driver):
    """A second learner, who wrote nothing, is erased: every row of the first learner and
    the mentor (sessions, notes of every level, goals, actions) is exactly as it was."""
    other = driver.launch(driver.user("Learner", 2)["id"])
    _submit_everything(app, other.token)
    with app.app_context():
        other_id = db.session.scalar(select(Attempt.person_id).where(
            Attempt.person_id != rich["person_id"]))
    before = _others_rows(app, other_id)
    with app.app_context():
        personal_data.erase_person(other_id)
        db.session.commit()
    after = _others_rows(app, other_id)
    assert "PRIVATE-NOTE-TEXT" in json.dumps(before) and "AUTHOR-ONLY-TEXT" in json.dumps(before)
    assert after == before


def test_erasing_nobody_or_a_placeholder_is_refused(app, rich):
    with app.app_context():
        with pytest.raises(personal_data.PersonNotFound) as raised:
            personal_data.erase_person(999_999)
        assert raised.value.args == (999_999,)
        personal_data.erase_person(rich["mentor_id"])
        db.session.commit()
        placeholder = db.session.scalar(select(Person).where(
            Person.sub.startswith(personal_data.ERASED_PREFIX)))
        with pytest.raises(personal_data.PersonNotFound) as raised:
            personal_data.erase_person(placeholder.id)
        assert raised.value.args == (placeholder.id,)


def test_retention_purges_old_attempts(app, rich):
    with app.app_context():
        db.session.execute(text("UPDATE attempt SET started_dt = :old"),
                           {"old": utcnow() - timedelta(days=800)})
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["data", "purge", "--days", "730"])
    assert "Purged 1 attempt" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "data.purge"))


def test_retention_keeps_attempts_younger_than_the_limit(app, rich, driver):
    """Two attempts either side of the limit: only the one started before it goes, with its
    answers, result and grade delivery; the younger one keeps all of its own."""
    other = driver.launch(driver.user("Learner", 2)["id"])
    _submit_everything(app, other.token)
    now = utcnow()
    with app.app_context():
        old_id, young_id = sorted(db.session.scalars(select(Attempt.id)))
        db.session.execute(text("UPDATE attempt SET started_dt = :when WHERE id = :id"),
                           {"when": now - timedelta(days=731), "id": old_id})
        db.session.execute(text("UPDATE attempt SET started_dt = :when WHERE id = :id"),
                           {"when": now - timedelta(days=729), "id": young_id})
        db.session.commit()

        def held(attempt_id: int) -> tuple[int, int, int]:
            results = select(Result.id).where(Result.attempt_id == attempt_id)
            return (
                db.session.scalar(select(func.count()).select_from(Answer)
                                  .where(Answer.attempt_id == attempt_id)),
                db.session.scalar(select(func.count()).select_from(Result)
                                  .where(Result.attempt_id == attempt_id)),
                db.session.scalar(select(func.count()).select_from(ScoreRecord)
                                  .where(ScoreRecord.result_id.in_(results))),
            )

        young_before = held(young_id)
        assert all(young_before) and all(held(old_id))
    result = app.test_cli_runner().invoke(args=["data", "purge", "--days", "730"])
    assert result.exit_code == 0, result.output
    assert "Purged 1 attempt" in result.output
    with app.app_context():
        assert list(db.session.scalars(select(Attempt.id))) == [young_id]
        assert held(old_id) == (0, 0, 0)
        assert held(young_id) == young_before


def test_privacy_page_needs_no_launch(tool_server):
    page = requests.get(tool_server.url + "/privacy")
    assert page.status_code == 200
    assert "What is stored, and why" in page.text and "730 days" in page.text


# A course where everyone has every kind of record, about themselves and about the others:
# erasing any one of them must take exactly their records, hand their authorship on others'
# records to a placeholder, and leave every other row as it was.

def _world_extras(app, learners: list[int], mentors: list[int], course_id: int) -> None:
    from lti_tool.identity import audit
    from lti_tool.mentoring.models import AgendaTemplate, AvailabilitySlot, CalendarFeed
    from lti_tool.notifications.models import MailPreference, Notification
    from lti_tool.questionnaire.activity import RetakeRound

    with app.app_context():
        first_mentor, second_mentor = mentors
        for index, mentor_id in enumerate(mentors):
            db.session.add_all([
                CalendarFeed(mentor_id=mentor_id, course_id=course_id,
                             token_hash=f"{index:064d}"),
                AgendaTemplate(mentor_id=mentor_id, course_id=course_id,
                               parts=[{"kind": "opening", "minutes": 10}]),
                AvailabilitySlot(course_id=course_id, mentor_id=mentor_id,
                                 start_dt=utcnow() + timedelta(days=20 + index),
                                 end_dt=utcnow() + timedelta(days=20 + index, hours=2),
                                 mode=MeetingMode.ONLINE),
            ])
        for person_id in learners + mentors:
            db.session.add_all([
                MailPreference(person_id=person_id, kind="reminders"),
                Notification(kind="booked", recipient_id=person_id, key=f"k-{person_id}",
                             message_id=f"<m-{person_id}@test>"),
            ])
        for learner_id, mentor_id in zip(learners, mentors, strict=True):
            # Each mentor allowed the other mentor's first learner a retake, reviewed
            # an action, and wrote a check-in on a goal.
            attempt = db.session.scalar(select(Attempt).where(Attempt.person_id == learner_id))
            attempt.retake_allowed_by_id = mentor_id
            attempt.retake_allowed_dt = utcnow()
            for goal in db.session.scalars(select(Goal).where(Goal.learner_id == learner_id)):
                for action in goal.actions:
                    action.done_by_id, action.done_dt = mentor_id, utcnow()
                db.session.add(GoalCheckIn(goal_id=goal.id, author_id=mentor_id,
                                           by=ActionOwner.MENTOR, progress=50,
                                           note=f"mentor {mentor_id} checked in"))
            audit.record("GET mentoring.learner_page", actor_person_id=mentor_id,
                         subject_person_id=learner_id, course_id=course_id)
        resource_link_id = db.session.scalar(select(Attempt.resource_link_id))
        db.session.add(RetakeRound(resource_link_id=resource_link_id, opens_dt=utcnow(),
                                   set_by_id=first_mentor))
        # The second mentor booked the first mentor's sessions; each mentor cancelled one
        # of the other's.
        for session in db.session.scalars(select(MentoringSession).where(
                MentoringSession.mentor_id == first_mentor)):
            session.created_by_id = second_mentor
        for mentor_id, other_id in ((first_mentor, second_mentor),
                                    (second_mentor, first_mentor)):
            cancelled = db.session.scalars(select(MentoringSession).where(
                MentoringSession.mentor_id == other_id).order_by(MentoringSession.id)).first()
            cancelled.cancelled_by_id, cancelled.cancelled_dt = mentor_id, utcnow()
        for assignment in db.session.scalars(select(MentorAssignment).where(
                MentorAssignment.mentor_id == first_mentor)):
            assignment.assigned_by_id = second_mentor
        db.session.commit()


@pytest.fixture
def world(app, rich, driver):
    """Two learners and two mentors, each learner with a session with each mentor."""
    other = driver.launch(driver.user("Learner", 2)["id"])
    _submit_everything(app, other.token)
    with app.app_context():
        second_learner = db.session.scalar(select(Attempt.person_id).where(
            Attempt.person_id != rich["person_id"]))
        platform_id = db.session.get(Person, rich["mentor_id"]).platform_id
        from lti_tool.identity.models import Membership, Role
        mentor = Person(platform_id=platform_id, sub="second-mentor", name="Second Mentor",
                        email="second.mentor@example.edu")
        db.session.add(mentor)
        db.session.flush()
        db.session.add(Membership(course_id=rich["course_id"], person_id=mentor.id,
                                  roles=["Instructor"], role=Role.MENTOR))
        db.session.add(TimezonePreference(person_id=mentor.id, timezone="Europe/Lisbon"))
        db.session.commit()
        second_mentor = mentor.id
    learners = [rich["person_id"], second_learner]
    mentors = [rich["mentor_id"], second_mentor]
    _mentoring(app, learners[1], mentors[0], rich["course_id"], start_days=5)
    # Booked after the first, held before it: the export lists sessions by start.
    _mentoring(app, learners[0], mentors[1], rich["course_id"], start_days=1)
    _mentoring(app, learners[1], mentors[1], rich["course_id"], start_days=9)
    _world_extras(app, learners, mentors, rich["course_id"])
    return {"learners": learners, "mentors": mentors}


def _references(app, person_id: int) -> list[tuple[str, str]]:
    """Every (table, column) still pointing at the person (the erasure's entry aside)."""
    found = []
    for table, row in _every_row(app):
        if table.name == "audit_entry" and row["action"] == "data.erase":
            continue
        for column in table.columns:
            points_at_person = any(fk.column.table.name == "person"
                                   for fk in column.foreign_keys)
            if points_at_person and row[column.key] == person_id:
                found.append((table.name, column.key))
    return found


def _unrelated_rows(app, person_id: int) -> dict[str, list[str]]:
    """`_others_rows`, also without the rows that hang from the person's own sessions,
    goals and results (a mentor's note in the learner's session goes with the session)."""
    with app.app_context():
        owned = {
            "session_id": set(db.session.scalars(select(MentoringSession.id).where(
                MentoringSession.learner_id == person_id))),
            "goal_id": set(db.session.scalars(select(Goal.id).where(
                Goal.learner_id == person_id))),
            "result_id": set(db.session.scalars(select(Result.id).join(Attempt).where(
                Attempt.person_id == person_id))),
        }
    rows = {}
    for table, found in _others_rows(app, person_id).items():
        kept = [row for row in found if not any(
            json.loads(row).get(key) in ids for key, ids in owned.items())]
        if kept:
            rows[table] = kept
    return rows


def _erase_in_world(app, person_id: int) -> dict[str, int]:
    """Erase one person; every row unrelated to them is exactly as it was, and nothing
    points at them any more. Rows handed to the placeholder are checked by the caller."""
    before = _unrelated_rows(app, person_id)
    with app.app_context():
        counts = personal_data.erase_person(person_id)
        db.session.commit()
    after = _unrelated_rows(app, person_id)

    def keys(rows: dict[str, list[str]]) -> set[tuple[str, Any]]:
        return {(table, json.loads(row).get("id", row)) for table, found in rows.items()
                for row in found}

    kept = keys(before)
    # Rows that pointed at the person and now point at the placeholder join the unrelated
    # ones: compare the rows that were unrelated before.
    compared = {table: [row for row in found if (table, json.loads(row).get("id", row)) in kept]
                for table, found in after.items()}
    assert {table: rows for table, rows in compared.items() if rows} == before
    assert _references(app, person_id) == []
    return counts


NOTHING = dict.fromkeys((
    "grade_deliveries", "actions", "check_ins", "goals", "answers", "results", "attempts",
    "retakes_allowed_cleared", "session_ratings", "mentor_assignments",
    "authorship_reassigned", "session_reflections", "notes", "agenda_parts",
    "mentoring_sessions", "calendar_feeds", "agenda_templates", "time_zone", "emails",
    "email_settings", "launch_sessions", "memberships", "audit_entries_about",
    "audit_entries_by"), 0)


def test_erasing_a_learner_in_a_full_course_takes_exactly_their_records(app, world):
    counts = _erase_in_world(app, world["learners"][0])
    items = len(current_instrument().items)
    # Their two sessions (one with each mentor) each hold four notes, an agenda part, a
    # goal with one action and two check-ins (theirs and their mentor's), a rating and a
    # reflection; their two assignments; their attempt's answers, result and score.
    assert counts == {
        **NOTHING, "grade_deliveries": 1, "actions": 2, "check_ins": 4, "goals": 2,
        "answers": items, "results": 1, "attempts": 1, "session_ratings": 2,
        "mentor_assignments": 2, "session_reflections": 2, "notes": 8, "agenda_parts": 2,
        "mentoring_sessions": 2, "time_zone": 1, "emails": 1, "email_settings": 1,
        "launch_sessions": 1, "memberships": 1, "audit_entries_about": 2}


def test_erasing_a_mentor_in_a_full_course_hands_their_authorship_on(app, world):
    mentor = world["mentors"][0]
    counts = _erase_in_world(app, mentor)
    # Authorship on the learners' records passes to the placeholder: the three shared notes
    # in each of their two sessions, the two sessions, the two goals they wrote, their
    # check-ins and done-marks on the first learner's two goals, their slot, the session
    # of the other mentor they cancelled (no longer theirs to have cancelled). The retake they
    # allowed and the retake round they set are cleared; the assignments naming them go,
    # with the notes they kept for themselves; their two page views stay, without them.
    assert counts == {
        **NOTHING, "retakes_allowed_cleared": 2, "mentor_assignments": 2,
        "authorship_reassigned": 3 * 2 + 2 + 2 + 2 + 2 + 1 + 1, "notes": 2,
        "calendar_feeds": 1, "agenda_templates": 1, "emails": 1, "email_settings": 1,
        "launch_sessions": 1, "memberships": 1, "audit_entries_by": 2}
    with app.app_context():
        stand_ins = set(db.session.scalars(select(MentoringSession.mentor_id).where(
            MentoringSession.learner_id.in_(world["learners"]))))
        placeholders = db.session.scalars(select(Person).where(
            Person.sub.startswith(personal_data.ERASED_PREFIX))).all()
    assert len(placeholders) == 1 and placeholders[0].name == "Erased person"
    assert re.fullmatch(personal_data.ERASED_PREFIX + "[0-9a-f]{16}", placeholders[0].sub)
    with app.app_context():
        detail = db.session.scalar(select(AuditEntry.detail).where(
            AuditEntry.action == "data.erase"))
    # Called from code, not the command: no operator named.
    assert detail["operator"] == "" and detail["erased_person_id"] == mentor
    assert stand_ins == {placeholders[0].id, world["mentors"][1]}


def test_erasing_the_mentor_who_assigned_and_booked_for_another(app, world):
    counts = _erase_in_world(app, world["mentors"][1])
    assert counts["authorship_reassigned"] > 0 and counts["mentor_assignments"] == 2
    assert counts["calendar_feeds"] == counts["agenda_templates"] == counts["time_zone"] == 1


def _export(app, person_id: int, **options) -> dict[str, Any]:
    with app.app_context():
        return json.loads(json.dumps(personal_data.export_person(person_id, **options)))


def test_a_learners_export_in_a_full_course_holds_theirs_and_nothing_of_the_others(app, world):
    first, second = world["learners"]
    document = _export(app, first)
    text_of = json.dumps(document)
    with app.app_context():
        person = db.session.get(Person, first)
        other_attempt = db.session.scalar(select(Attempt.id).where(Attempt.person_id == second))
        own_sessions = set(db.session.scalars(select(MentoringSession.id).where(
            MentoringSession.learner_id == first)))
        email, sub = person.email, person.sub
    assert document["person"]["id"] == first and document["person"]["sub"] == sub
    assert document["person"]["email"] == email
    assert document["person"]["platform"].startswith("http")
    assert document["person"]["created_dt"].endswith("Z")
    assert [c["role"] for c in document["courses"]] == ["learner"]
    assert "person_id" not in document["courses"][0] and document["courses"][0]["course"]
    [attempt] = document["questionnaire_attempts"]
    assert attempt["person_id"] == first and attempt["id"] != other_attempt
    assert attempt["result"]["attempt_id"] == attempt["id"]
    assert attempt["retake_allowed_by_id"] == world["mentors"][0]
    assert [g["person_id"] for g in document["grade_deliveries"]] == [first]
    sessions = document["mentoring_sessions"]
    assert {s["id"] for s in sessions} == own_sessions
    assert [s["start_dt"] for s in sessions] == sorted(s["start_dt"] for s in sessions)
    assert all(s["mode"] == "online" for s in sessions)
    for session in sessions:
        assert {n["session_id"] for n in session["notes"]} == {session["id"]}
        assert sorted(n["visibility"] for n in session["notes"]) == [
            "learner", "mentors", "mentors"]
    assert {g["learner_id"] for g in document["goals"]} == {first}
    assert len(document["goals"]) == 2
    assert all(len(g["actions"]) == 1 and len(g["check_ins"]) == 2 for g in document["goals"])
    assert all(g["target_date"].count("-") == 2 and not g["target_date"].endswith("Z")
               for g in document["goals"])
    for key in ("session_reflections", "session_ratings", "assigned_mentors"):
        assert {r["learner_id"] for r in document[key]} == {first}, key
        assert len(document[key]) == 2, key
    assert [launch["person_id"] for launch in document["launches"]] == [first]
    assert "claims" not in document["launches"][0]
    assert document["as_mentor"] == {"sessions_held": 0, "availability_slots": 0,
                                     "notes_for_themself": 0}
    assert {e["subject_person_id"] for e in document["audit_entries"]} == {first}
    assert "AUTHOR-ONLY-TEXT" not in text_of
    assert document["exported_at"].endswith("Z")


def test_a_mentors_export_counts_what_they_hold_for_others(app, world):
    mentor = world["mentors"][0]
    document = _export(app, mentor)
    assert document["as_mentor"] == {"sessions_held": 2, "availability_slots": 1,
                                     "notes_for_themself": 2}
    assert document["questionnaire_attempts"] == [] and document["mentoring_sessions"] == []
    assert {e["actor_person_id"] for e in document["audit_entries"]} == {mentor}
    assert len(document["audit_entries"]) == 2
    assert [c["role"] for c in document["courses"]] == ["mentor"]


def test_the_learners_own_copy_keeps_only_notes_shared_with_them(app, world):
    first = world["learners"][0]
    own = _export(app, first, for_learner=True)
    for session in own["mentoring_sessions"]:
        assert [n["visibility"] for n in session["notes"]] == ["learner"]
        # A summary the mentor has not published stays out of the learner's copy.
        assert "summary_discussed" not in session and "summary_next" not in session
    assert "as_mentor" not in own and "audit_entries" not in own
    operator = _export(app, first)
    assert all("summary_discussed" in s for s in operator["mentoring_sessions"])


def test_exporting_nobody_names_the_id_asked_for(app):
    with app.app_context(), pytest.raises(personal_data.PersonNotFound) as raised:
        personal_data.export_person(999_999)
    assert raised.value.args == (999_999,)


def test_the_export_lists_a_course_only_they_are_in_and_an_unfinished_attempt(app, rich):
    from lti_tool.identity.models import Course, Membership, Role

    with app.app_context():
        person = db.session.get(Person, rich["person_id"])
        course = Course(platform_id=person.platform_id, context_id="tutorial-1",
                        title="One-to-one tutorial")
        db.session.add(course)
        db.session.flush()
        db.session.add(Membership(course_id=course.id, person_id=person.id,
                                  roles=["Learner"], role=Role.LEARNER))
        attempt = db.session.scalar(select(Attempt).where(Attempt.person_id == person.id))
        db.session.add(Attempt(person_id=person.id, course_id=course.id,
                               resource_link_id=attempt.resource_link_id,
                               instrument_id=attempt.instrument_id,
                               instrument_version=attempt.instrument_version, number=2))
        db.session.commit()
    document = _export(app, rich["person_id"])
    assert "One-to-one tutorial" in [c["course"] for c in document["courses"]]
    finished, unfinished = document["questionnaire_attempts"]
    assert finished["result"]["overall"] > 0
    assert unfinished["result"] is None and unfinished["answers"] == {}


def _attempt_started(app, person_id: int, when) -> None:
    with app.app_context():
        db.session.execute(update(Attempt).where(Attempt.person_id == person_id)
                           .values(started_dt=when))
        db.session.commit()


def test_retention_keeps_an_attempt_started_exactly_at_the_limit(app, rich):
    now = utcnow()
    _attempt_started(app, rich["person_id"], now - timedelta(days=730))
    with app.app_context():
        assert personal_data.purge_old_attempts(730, now=now) == 0
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1
        # Kept whole: its answers, its result and the goal's link to it.
        assert db.session.scalar(select(func.count()).select_from(Answer)) == len(
            current_instrument().items)
        assert db.session.scalar(select(func.count()).select_from(Result)) == 1
        assert db.session.scalar(select(Goal.source_attempt_id)) is not None
        detail = db.session.scalar(select(AuditEntry.detail).where(
            AuditEntry.action == "data.purge"))
    assert detail == {"retention_days": 730, "attempts": 0}


def test_retention_records_what_it_purged_and_keeps_live_launches(app, rich):
    from lti_tool.lti.models import LaunchSession

    now = utcnow()
    _attempt_started(app, rich["person_id"], now - timedelta(days=731))
    with app.app_context():
        launches = db.session.scalar(select(func.count()).select_from(LaunchSession))
        old = db.session.scalar(select(LaunchSession).limit(1))
        old.expires_dt = now - timedelta(days=730)  # exactly at the limit: kept
        db.session.commit()
        assert personal_data.purge_old_attempts(730, now=now) == 1
        db.session.commit()
        detail = db.session.scalar(select(AuditEntry.detail).where(
            AuditEntry.action == "data.purge"))
        assert db.session.scalar(select(func.count()).select_from(LaunchSession)) == launches
        old.expires_dt = now - timedelta(days=731)
        db.session.commit()
        personal_data.purge_old_attempts(730, now=now)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(LaunchSession)) == launches - 1
    assert launches >= 2
    assert detail == {"retention_days": 730, "attempts": 1}
