"""Roster sync from NRPS: paging, people and memberships, privacy, leavers, failures, CLI."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import event, func, select

from lti_tool.config import DEFAULTS, ConfigError, load_config
from lti_tool.extensions import db
from lti_tool.identity.models import Course, Membership, Person, Role
from lti_tool.lti import roster
from lti_tool.lti.roster import RosterSyncFailed, RosterUnavailable, sync_roster
from lti_tool.lti.services import MembersPage, PlatformServiceError
from lti_tool.lti.storage import shared_store
from tests.conftest import PROFILES


def mentor_launch(driver):
    """Launch as the course's instructor; the course then knows its NRPS URL."""
    return driver.launch(driver.user("Instructor")["id"])


def the_course() -> Course:
    db.session.expire_all()
    return db.session.scalars(select(Course)).one()


def memberships() -> dict[str, Membership]:
    """Membership by the person's sub (the platform's user id)."""
    db.session.expire_all()
    rows = db.session.execute(select(Person.sub, Membership).join(Membership.person)).all()
    return {sub: membership for sub, membership in rows}


def open_page(driver, launch, **params) -> requests.Response:
    return requests.get(urljoin(driver.tool_url, "/mentor/"),
                        params={"lt": launch.token, **params})


@pytest.mark.parametrize("profile", PROFILES)
def test_the_mentor_page_brings_in_the_whole_roster(driver, platform, profile):
    launch = mentor_launch(driver)
    assert the_course().roster_synced_dt is None

    page = open_page(driver, launch)

    assert page.status_code == 200
    learners = [u for u in platform.users() if u["role"] == "Learner"]
    instructor = platform.sub(driver.user("Instructor")["id"])
    # Nobody but the instructor has launched, yet every learner is listed.
    assert "<strong>30</strong> learners" in page.text
    assert learners[12]["family_name"] in page.text.replace("&#39;", "'")
    assert "Roster from the LMS, updated" in page.text
    rows = memberships()
    assert len(rows) == len(platform.users())  # Canvas lists its observer too
    assert rows[instructor].role is Role.MENTOR
    assert {rows[platform.sub(u["id"])].role for u in learners} == {Role.LEARNER}
    first = rows[platform.sub(learners[0]["id"])]
    person = db.session.scalar(select(Person).where(Person.sub == platform.sub(learners[0]["id"])))
    assert person.given_name == learners[0]["given_name"]
    if profile == "moodle":
        # NRPS gives short role names; they are kept as sent and mapped like launch roles.
        assert first.roles == ["Learner"]
        assert person.email == learners[0]["email"]
    else:
        # Canvas: full role URIs, and name_only privacy keeps the e-mail from the tool.
        assert first.roles == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
        assert person.email is None
    assert the_course().roster_synced_dt is not None


@pytest.mark.parametrize("profile, pages", [("moodle", 5), ("canvas", 5)])
def test_pages_are_followed_through_link_next(driver, platform, pages):
    mentor_launch(driver)
    report = sync_roster(the_course().id, page_size=7)
    db.session.commit()

    members = len(platform.users())
    assert (report.members, report.pages) == (members, pages)
    assert report.people_added == members - 1  # the instructor existed
    assert len(memberships()) == members


def test_a_second_sync_changes_nothing(driver, platform):
    mentor_launch(driver)
    sync_roster(the_course().id)
    db.session.commit()
    report = sync_roster(the_course().id)
    db.session.commit()
    assert (report.people_added, report.people_updated, report.joined, report.changed,
            report.left) == (0, 0, 0, 0, 0)


def test_withheld_names_and_email_leave_the_pseudonym(driver, platform):
    mentor_launch(driver)
    sync_roster(the_course().id)
    db.session.commit()
    learner = driver.user("Learner", 3)
    platform.settings.update(share_name=False, share_email=False)

    report = sync_roster(the_course().id)
    db.session.commit()

    assert report.people_updated == 31
    db.session.expire_all()
    person = db.session.scalar(select(Person).where(Person.sub == learner["id"]))
    assert (person.name, person.given_name, person.family_name, person.email) == (
        None, None, None, None)
    assert person.display_name == person.pseudonym
    assert person.pseudonym.startswith("Learner ") and len(person.pseudonym) == 12


def test_synced_people_keep_the_name_key_lists_sort_by(driver, platform):
    """Inserted, then withheld (a bulk update), then shared again: each person's stored
    name key is their display name casefolded, as the cohort's sort and search read it."""
    def keys() -> dict[str, tuple[str, str]]:
        db.session.expire_all()
        return {person.sub: (person.name_key, person.display_name.casefold())
                for person in db.session.scalars(select(Person))}

    mentor_launch(driver)
    pseudonymous = []
    for settings in ({}, {"share_name": False}, {"share_name": True}):
        platform.settings.update(settings)
        sync_roster(the_course().id)
        db.session.commit()
        found = keys()
        assert len(found) == len(platform.users())
        assert all(stored == expected for stored, expected in found.values()), found
        pseudonymous.append(sum(stored.startswith("learner ") for stored, _ in found.values()))
    assert pseudonymous == [0, len(platform.users()), 0]


def test_the_page_shows_pseudonyms_when_names_are_withheld(driver, platform):
    platform.settings.update(share_name=False, share_email=False)
    launch = mentor_launch(driver)
    page = open_page(driver, launch)
    learner = driver.user("Learner", 0)
    person = db.session.scalar(select(Person).where(Person.sub == learner["id"]))
    assert person.pseudonym in page.text
    assert learner["family_name"] not in page.text and learner["email"] not in page.text


def test_a_learner_who_leaves_becomes_inactive_and_keeps_their_data(driver, platform):
    mentor_launch(driver)
    sync_roster(the_course().id)
    db.session.commit()
    leaver = driver.user("Learner", 2)
    with platform.store.write() as conn:
        conn.execute("DELETE FROM enrolments WHERE user_id = ?", (leaver["id"],))
    try:
        report = sync_roster(the_course().id)
        db.session.commit()
        assert (report.members, report.left) == (30, 1)
        rows = memberships()
        assert rows[leaver["id"]].active is False
        assert sum(m.active for m in rows.values()) == 30
    finally:
        with platform.store.write() as conn:
            conn.execute("INSERT INTO enrolments (course_id, user_id, role) VALUES (?, ?, ?)",
                         ("2", leaver["id"], "Learner"))
    sync_roster(the_course().id)
    db.session.commit()
    assert memberships()[leaver["id"]].active is True


def test_a_platform_error_is_a_notice_not_a_500(driver, platform, caplog):
    launch = mentor_launch(driver)
    platform.settings["nrps_enabled"] = False  # the service now answers 404

    page = open_page(driver, launch)

    assert page.status_code == 200
    assert "The roster could not be refreshed from the LMS" in page.text
    assert "HTTP 400" in page.text  # the token endpoint no longer grants the NRPS scope
    assert the_course().roster_synced_dt is None
    # The next page view does not wait for the platform again, and says the same.
    platform.settings["nrps_enabled"] = True
    again = open_page(driver, launch)
    assert "could not be refreshed" in again.text
    assert the_course().roster_synced_dt is None


def test_without_nrps_the_cohort_is_who_launched(driver, platform):
    platform.settings["nrps_enabled"] = False
    learner = driver.user("Learner", 4)
    driver.launch(learner["id"])
    launch = mentor_launch(driver)
    assert the_course().memberships_url is None

    page = open_page(driver, launch)

    assert page.status_code == 200
    assert "does not share its roster" in page.text
    assert "<strong>1</strong> learner" in page.text
    assert learner["given_name"] in page.text
    with pytest.raises(RosterUnavailable):
        sync_roster(the_course().id)


def test_a_fresh_roster_is_not_fetched_again(app, driver, platform):
    launch = mentor_launch(driver)
    open_page(driver, launch)
    synced = the_course().roster_synced_dt
    open_page(driver, launch)
    assert the_course().roster_synced_dt == synced

    course = the_course()
    course.roster_synced_dt = synced - timedelta(minutes=app.config["ROSTER_MAX_AGE_MINUTES"])
    db.session.commit()
    shared_store().delete(f"roster-sync:{course.id}")  # the lock of the first sync
    open_page(driver, launch)
    assert the_course().roster_synced_dt > synced


def test_cli_syncs_one_course_or_all(app, driver, platform):
    mentor_launch(driver)
    runner = app.test_cli_runner()
    course_id = the_course().id

    one = runner.invoke(args=["roster", "sync", "--course", str(course_id)])
    assert one.exit_code == 0, one.output
    assert "31 members" in one.output and "30 new people" in one.output

    every = runner.invoke(args=["roster", "sync", "--all", "--page-size", "10"])
    assert every.exit_code == 0, every.output
    assert "31 members in 4 page(s)" in every.output and "0 new people" in every.output

    assert runner.invoke(args=["roster", "sync"]).exit_code == 2
    assert runner.invoke(args=["roster", "sync", "--all", "--course", "1"]).exit_code == 2


def test_cli_reports_failures_with_a_nonzero_exit(app, driver, platform):
    mentor_launch(driver)
    platform.settings["nrps_enabled"] = False
    result = app.test_cli_runner().invoke(args=["roster", "sync", "--all"])
    assert result.exit_code == 1
    assert "FAILED" in result.output and "HTTP 400" in result.output
    missing = app.test_cli_runner().invoke(args=["roster", "sync", "--course", "999"])
    assert missing.exit_code == 1 and "no course 999" in missing.output


# Member parsing and efficiency, with the platform's pages stood in for ----------------------


@pytest.fixture
def course(app, make_course):
    return make_course()


@pytest.fixture
def make_course(app):
    """A course with an NRPS URL on a platform that is never called (pages are faked)."""
    from lti_tool.identity.models import Platform

    numbers = iter(range(1, 1000))

    def make() -> Course:
        platform = Platform(issuer=f"https://lms{next(numbers)}.example.edu", client_id="tool",
                            auth_login_url="https://lms.example.edu/auth",
                            auth_token_url="https://lms.example.edu/token",
                            key_set_url="https://lms.example.edu/certs")
        db.session.add(platform)
        db.session.flush()
        course = Course(platform_id=platform.id, context_id="c1", label="C1",
                        memberships_url="https://lms.example.edu/nrps")
        db.session.add(course)
        db.session.commit()
        return course

    return make


@pytest.fixture
def fake_pages(monkeypatch):
    """Make the NRPS client answer with the given pages (lists of members) or raise."""

    def install(*pages, error: Exception | None = None):
        def members_pages(self, url, *, limit=100):
            for number, members in enumerate(pages):
                yield MembersPage(members, {}, None if number == len(pages) - 1 else "next")
            if error is not None:
                raise error

        monkeypatch.setattr(roster.ServiceClient, "__init__", lambda self, platform: None)
        monkeypatch.setattr(roster.ServiceClient, "members_pages", members_pages)

    return install


def member(user_id, role="Learner", **extra):
    return {"user_id": user_id, "roles": [role], "status": "Active", **extra}


def test_members_are_read_leniently(course, fake_pages):
    fake_pages([
        member("1", given_name="Ada", family_name="Lovelace", email="ada@example.edu"),
        member("2", role="http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"),
        member("3", status="Inactive"),
        {"roles": ["Learner"]},  # no user id: skipped
        member(4, role="Guest"),  # a number as id; a role the tool does not know
    ], [member("1", name="Ada Lovelace")])  # listed twice: the last entry wins

    report = sync_roster(course.id)
    db.session.commit()

    rows = memberships()
    assert report.members == 4 and set(rows) == {"1", "2", "3", "4"}
    assert (rows["2"].role, rows["3"].active, rows["4"].role) == (Role.MENTOR, False, Role.NONE)
    ada = db.session.scalar(select(Person).where(Person.sub == "1"))
    assert (ada.name, ada.given_name, ada.email) == ("Ada Lovelace", None, None)


@pytest.mark.parametrize("error", [
    PlatformServiceError("boom", status=500, body="Internal error"),
    ValueError("Expecting value: line 1 column 1 (char 0)"),
])
def test_a_broken_answer_raises_roster_sync_failed_and_writes_nothing(course, fake_pages, error):
    fake_pages([member("1")], error=error)
    with pytest.raises(RosterSyncFailed) as failed:
        sync_roster(course.id)
    assert failed.value.detail
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_sync_statements_do_not_grow_with_the_roster(app, make_course, fake_pages):
    def statements(count: int) -> int:
        with app.app_context():
            course = make_course()
            fake_pages([member(str(i), given_name=f"N{i}") for i in range(count)])
            seen = []
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                sync_roster(course.id)
                db.session.commit()
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            db.session.execute(Membership.__table__.delete())
            db.session.execute(Person.__table__.delete())
            db.session.execute(Course.__table__.delete())
            db.session.commit()
            return len(seen)

    assert statements(20) == statements(600)


def test_roster_age_is_configured(monkeypatch):
    assert DEFAULTS["ROSTER_MAX_AGE_MINUTES"] == 15
    base = {"SECRET_KEY": "x" * 40, "TOOL_URL": "https://tool.example.edu"}
    assert load_config(base)["ROSTER_MAX_AGE_MINUTES"] == 15
    monkeypatch.setenv("LTI_TOOL_ROSTER_MAX_AGE_MINUTES", "5")
    assert load_config(base)["ROSTER_MAX_AGE_MINUTES"] == 5
    with pytest.raises(ConfigError, match="ROSTER_MAX_AGE_MINUTES"):
        load_config({**base, "ROSTER_MAX_AGE_MINUTES": 0})
