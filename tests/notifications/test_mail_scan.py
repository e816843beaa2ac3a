"""The worker's scan: a reminder before each session, actions due tomorrow or overdue, goals
whose review date has come; each enqueued once however often the scan runs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.mentoring import booking, mail
from lti_tool.mentoring.drafts import SessionDraft
from lti_tool.mentoring.models import ActionItem, ActionOwner, Goal, GoalStatus, MeetingMode
from lti_tool.notifications import sender
from lti_tool.notifications.models import Notification
from tests.mentoring.sessions_kit import mentored_course
from tests.notifications.test_mail_delivery import parts


@pytest.fixture
def course(make_activity, make_person, token_for):
    return mentored_course(make_activity, make_person, token_for)


def session_at(course, start: datetime):
    session = booking.book_session(course.mentor_launch, course.learner.id, SessionDraft(
        start_dt=start, minutes=60, mode=MeetingMode.ONLINE, location="",
        meeting_url="https://meet.example.edu/r", agenda="Plan"))
    db.session.commit()
    return session


def kinds() -> list[tuple[str, int]]:
    db.session.expire_all()
    return [(n.kind, n.recipient_id) for n in db.session.scalars(
        select(Notification).order_by(Notification.id))]


def test_a_reminder_goes_to_both_once_within_the_reminder_hours(course, smtp, mail_config):
    now = utcnow()
    soon = session_at(course, now + timedelta(hours=20))
    session_at(course, now + timedelta(hours=30))  # outside the 24 h
    booked = len(kinds())
    report = mail.scan(now)
    db.session.commit()
    assert report.reminders == 2
    reminders = [entry for entry in kinds()[booked:] if entry[0] == "session_reminder"]
    assert sorted(reminders) == sorted([("session_reminder", course.mentor.id),
                                        ("session_reminder", course.learner.id)])
    assert mail.scan(now + timedelta(minutes=5)).total == 0  # once
    sender.send_due()
    reminder = next(m for m in smtp.messages if m["Subject"].startswith("Reminder"))
    text = parts(reminder)["text/plain"].get_content()
    assert "https://meet.example.edu/r" in text and "calendar" not in str(parts(reminder))
    # Moved into another time within the window, it is reminded again.
    soon.start_dt, soon.end_dt = now + timedelta(hours=22), now + timedelta(hours=23)
    db.session.commit()
    assert mail.scan(now).reminders == 2


def test_the_reminder_hours_are_configurable(course, smtp, mail_config, monkeypatch):
    monkeypatch.setitem(mail_config, "MAIL_REMINDER_HOURS", 48)
    session_at(course, utcnow() + timedelta(hours=30))
    assert mail.scan().reminders == 2


def add_goal(course, target, *actions):
    goal = Goal(course_id=course.activity.course.id, learner_id=course.learner.id,
                created_by_id=course.mentor.id, title="Empathy interviews",
                dimension_ids=["empathy"], target_date=target, status=GoalStatus.ACTIVE)
    db.session.add(goal)
    db.session.flush()
    for title, owner, due in actions:
        db.session.add(ActionItem(goal_id=goal.id, title=title, owner=owner, due_date=due))
    db.session.commit()
    return goal


def test_actions_due_tomorrow_overdue_and_goal_reviews_are_enqueued_once(course, smtp,
                                                                         mail_config):
    now = datetime(2027, 1, 15, 12, 0)
    today = now.date()
    add_goal(course, today + timedelta(days=30),
             ("Interview two users", ActionOwner.LEARNER, today + timedelta(days=1)),
             ("Send the reading list", ActionOwner.MENTOR, today + timedelta(days=1)),
             ("Write the insight", ActionOwner.LEARNER, today - timedelta(days=1)),
             ("Long forgotten", ActionOwner.LEARNER, today - timedelta(days=30)),
             ("Next week", ActionOwner.LEARNER, today + timedelta(days=7)))
    add_goal(course, today)
    report = mail.scan(now)
    db.session.commit()
    assert (report.actions_due, report.actions_overdue, report.goal_reviews) == (2, 1, 2)
    assert sorted(kinds()) == sorted([
        ("action_due", course.learner.id), ("action_due", course.mentor.id),
        ("action_overdue", course.learner.id),
        ("goal_review", course.learner.id), ("goal_review", course.mentor.id)])
    assert mail.scan(now + timedelta(hours=1)).total == 0
    assert sender.send_due().sent == 5
    due = next(m for m in smtp.messages if m["To"].addresses[0].addr_spec == course.learner.email
               and m["Subject"].startswith("Due tomorrow"))
    assert due["Subject"] == "Due tomorrow: Interview two users"
    assert "16 January 2027" in parts(due)["text/plain"].get_content()


def test_a_done_action_or_a_closed_goal_is_not_nagged(course, smtp, mail_config):
    now = datetime(2027, 1, 15, 12, 0)
    goal = add_goal(course, now.date(),
                    ("Done already", ActionOwner.LEARNER, now.date() - timedelta(days=1)))
    goal.actions[0].done_dt = now
    db.session.commit()
    assert mail.scan(now).total == 2  # the goal's review, to the learner and the mentor ...
    goal.status = GoalStatus.ACHIEVED
    db.session.commit()
    assert mail.scan(now + timedelta(days=1)).total == 0  # ... and nothing once achieved


def test_a_session_not_prepared_for_asks_for_the_reflection_once(course, smtp, mail_config):
    from lti_tool.mentoring.models import ReflectionKind, SessionReflection

    now = utcnow()
    near = session_at(course, now + timedelta(days=2))
    prepared = session_at(course, now + timedelta(days=2, hours=3))
    session_at(course, now + timedelta(days=6))  # too early to ask
    db.session.add(SessionReflection(session_id=prepared.id, learner_id=course.learner.id,
                                     kind=ReflectionKind.BEFORE, text="Ready"))
    db.session.commit()

    report = mail.scan(now)
    db.session.commit()

    assert report.reflections_due == 1
    assert [entry for entry in kinds() if entry[0] == "reflection_due"] == [
        ("reflection_due", course.learner.id)]
    asked = db.session.scalar(select(Notification).where(Notification.kind == "reflection_due"))
    assert near.uid in asked.key
    assert mail.scan(now + timedelta(minutes=5)).reflections_due == 0


def test_a_retake_opening_on_a_date_is_announced_once_when_it_opens(course, smtp, mail_config,
                                                                   take):
    from lti_tool.questionnaire import delivery

    attempt = take(course.activity, course.learner)
    opens = utcnow() + timedelta(days=10)
    delivery.allow_retake(course.mentor_launch, course.learner.id, opens)
    db.session.commit()

    assert mail.scan(utcnow()).retakes_open == 0  # not yet open
    report = mail.scan(opens + timedelta(hours=1))
    db.session.commit()
    assert report.retakes_open == 1
    assert mail.scan(opens + timedelta(hours=2)).retakes_open == 0
    sender.send_due()
    subjects = [m["Subject"] for m in smtp.messages
                if m["To"].addresses[0].addr_spec == course.learner.email]
    assert "You can take the Design Mindset questionnaire again" in subjects
    # Once the learner has begun the retake, no later scan announces it.
    attempt.retake_from_dt = utcnow() - timedelta(hours=1)
    db.session.commit()
    delivery.open_attempt(course.learner_launch())
    db.session.commit()
    db.session.query(Notification).delete()
    db.session.commit()
    assert mail.scan(utcnow()).retakes_open == 0


def test_publishing_a_summary_tells_the_learner_and_a_changed_one_again(course, smtp,
                                                                       mail_config):
    from lti_tool.mentoring import summary

    session = session_at(course, utcnow() + timedelta(days=1))
    first = utcnow()
    summary.save_summary(course.mentor_launch, session.id, "Empathy", "", publish=True,
                         now=first)
    summary.save_summary(course.mentor_launch, session.id, "Empathy", "", publish=True,
                         now=first + timedelta(minutes=1))  # unchanged: no news
    summary.save_summary(course.mentor_launch, session.id, "Empathy and goals", "",
                         publish=True, now=first + timedelta(minutes=2))
    summary.save_summary(course.mentor_launch, session.id, "Draft only", "", publish=False)
    db.session.commit()

    assert [entry for entry in kinds() if entry[0] == "summary_published"] == [
        ("summary_published", course.learner.id)] * 2
