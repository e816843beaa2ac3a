"""The 90-minute session as one flow in Chromium, the tool inside the platform's iframe:
the mentor books → the learner writes a pre-session reflection → the mentor opens the
preparation view (printed: at most two A4 pages), runs the guide with its clock, records notes
per part and sets two goals with actions in the session → publishes the summary → the learner
reads and acknowledges it, checks in on a goal and proposes one → the mentor accepts the
proposal and, at the next session, rates a goal's attainment."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import FrameLocator, Page, expect
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import utcnow
from lti_tool.mentoring.models import Goal, Note, NoteVisibility, Proposal, SessionReflection
from tests.e2e.test_look import DOCS, MAX_BYTES, screenshot
from tests.e2e.tour import complete_by_http
from tests.mentoring.conftest import leaning_answers

pytestmark = pytest.mark.e2e

COURSE_ID = "2"
ZONE = "Europe/Warsaw"


@pytest.fixture
def page(browser):
    """A page in a new browser context whose clock is in Warsaw."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=ZONE,
                                  device_scale_factor=1)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def _launch_as(page: Page, platform, name: str) -> FrameLocator:
    """Open the platform's console and launch the tool as this user; the tool's frame."""
    page.goto(platform.issuer + "/")
    course = page.locator("section.card").filter(has_text=f"(course id {COURSE_ID})")
    row = course.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
    row.get_by_role("link", name="Launch as").click()
    content = page.frame_locator("#contentframe")
    expect(content.locator("header .who")).to_contain_text(name)
    return content


def _expect_zone(tool: FrameLocator, zone: str) -> None:
    """Wait until the page shows its times in `zone`. The first mentoring page a person opens
    is rendered in the tool's default zone and loaded once more in the browser's (timezone.js);
    a form is filled in on the page that stays."""
    expect(tool.locator("[data-timezone]")).to_have_attribute("data-timezone", zone)


def _book_a_session(page: Page, platform, mentor: dict, learner: dict, day: date) -> None:
    """The mentor books an in-person session with the learner on `day` at 10:00 (Warsaw)."""
    tool = _launch_as(page, platform, mentor["name"])
    tool.get_by_role("link", name="Sessions").click()
    tool.get_by_role("link", name="Book a session").click()
    _expect_zone(tool, ZONE)
    tool.get_by_label("Learner").select_option(label=learner["name"])
    tool.get_by_label("Date", exact=True).fill(day.isoformat())
    tool.get_by_label("Start time").fill("10:00")
    tool.get_by_role("radio", name="In person").check()
    tool.get_by_label("Location (in person)").fill("Room 2.14")
    tool.get_by_role("button", name="Book the session").click()
    expect(tool.get_by_role("status")).to_have_text("The session is booked.")


def _tool_frame_url(page: Page, part: str) -> str:
    """The URL (with its launch token) the tool's frame shows now."""
    [frame] = [f for f in page.frames if part in f.url]
    return frame.url


def photograph(page: Page, name: str, artifacts) -> None:
    """The viewport as it is scrolled now (test_look's `screenshot` scrolls to the top), in
    docs/screenshots/ when missing there."""
    target = DOCS / f"{name}.png"
    if target.exists():
        target = artifacts / f"{name}.png"
    page.screenshot(path=target, animations="disabled", caret="hide")
    assert target.stat().st_size < MAX_BYTES


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_prepare_run_and_follow_up_a_session(page, browser, platform, driver, app, tool_server,
                                             screenshots_dir):
    learner = driver.user("Learner", 0)
    mentor = driver.user("Instructor", 0)
    # The learner has a profile with a clear strength and a clear area to develop.
    complete_by_http(driver, learner["id"], leaning_answers(high="empathy", low="questioning"))
    day = date(utcnow().year + 1, 1, 15)

    # 1. The mentor books a session.
    _book_a_session(page, platform, mentor, learner, day)

    # 2. The learner prepares: how they see their strength and their area, what they want.
    tool = _launch_as(page, platform, learner["name"])
    tool.get_by_role("link", name="My development plan").click()
    _expect_zone(tool, ZONE)
    card = tool.locator(".session-card")
    card.get_by_label("How I see myself (1–10)").first.select_option("6")
    card.get_by_label("In one sentence, why?").first.fill("I listen, but I rarely ask users.")
    card.get_by_label("How I see myself (1–10)").nth(1).select_option("7")
    card.get_by_label("What do you want from this session?").fill(
        "Ways to ask better questions in my team.")
    card.get_by_role("button", name="Save my preparation").click()
    expect(tool.get_by_role("status")).to_contain_text("Your preparation is saved")
    with app.app_context():
        assert db.session.scalar(select(SessionReflection)).ratings["empathy"]["rating"] == 6

    # 3. The mentor prepares: profile with bands, self-ratings beside the scores.
    tool = _launch_as(page, platform, mentor["name"])
    tool.get_by_role("link", name="Sessions").click()
    tool.get_by_role("link", name=re.compile("10:00")).first.click()
    tool.get_by_role("link", name=re.compile("^Prepare")).click()
    expect(tool.get_by_role("heading", level=1)).to_contain_text("Preparation")
    empathy = tool.locator(".profile-table tr", has_text="Empathy")
    expect(empathy).to_contain_text("±")
    expect(empathy.locator(".self-rating-cell")).to_have_text("6")
    expect(tool.locator(".learner-hopes")).to_contain_text("better questions")
    screenshot(page, "prep-view", screenshots_dir)
    # Printed, it fits on one or two A4 pages.
    printing = browser.new_page()
    printing.goto(_tool_frame_url(page, "/prepare"))
    pdf = printing.pdf(format="A4", print_background=False)
    printing.close()
    assert 1 <= _pdf_pages(pdf) <= 2, _pdf_pages(pdf)

    # 4. The mentor runs the guide: the clock, notes per part, two goals with actions.
    tool.get_by_role("link", name="← Session guide").click()
    clock = tool.locator("[data-agenda-clock]")
    expect(clock).to_be_visible()
    expect(tool.locator("[data-agenda-part]")).to_have_count(6)
    clock.get_by_role("button", name="Start").click()
    expect(clock.locator("[data-clock-part-time]")).not_to_have_text("0:00", timeout=5_000)
    clock.get_by_role("button", name="Next part").click()
    expect(clock.locator("[data-clock-part]")).to_have_text("Review of the results")
    expect(tool.locator(".agenda-part.current")).to_have_attribute("data-title",
                                                                   "Review of the results")
    opening = tool.locator(".agenda-part.part-opening")
    opening.locator("summary", has_text="Notes in this part").click()
    opening.get_by_role("radio", name="The learner too").check()
    opening.get_by_label(re.compile("Note on")).fill("You want better questions: we start there.")
    opening.get_by_role("button", name="Save the note").click()
    expect(tool.get_by_role("status")).to_have_text("The note is saved.")
    # The page came back from the server; the clock kept its part, running.
    expect(clock.locator("[data-clock-part]")).to_have_text("Review of the results")
    expect(clock.get_by_role("button", name="Pause")).to_be_visible()
    strengths = tool.locator(".agenda-part.part-strengths")
    expect(strengths).to_contain_text("Whose point of view is easiest for you")
    strengths.locator("summary", has_text="Notes in this part").click()
    strengths.get_by_label(re.compile("Note on")).fill("PRIVATE-CANARY: modest about empathy")
    strengths.get_by_role("button", name="Save the note").click()
    expect(tool.get_by_role("status")).to_have_text("The note is saved.")

    areas = tool.locator(".agenda-part.part-areas")
    areas.locator("summary", has_text="Set a goal for Critical questioning").click()
    areas.get_by_label("Title").fill("Ask why in meetings")
    areas.get_by_label("Specific").fill("Ask one why-question in each project meeting.")
    areas.get_by_role("button", name="Set the goal in this session").click()
    expect(tool.get_by_role("status")).to_contain_text("The goal is set in this session")
    goals = tool.locator(".agenda-part.part-goals")
    goals.locator("summary", has_text="Set a goal in this session").click()
    goals.get_by_label("Title").last.fill("Interview two users")
    goals.get_by_label("Dimension it develops").select_option(label="Empathy")
    goals.get_by_label("What is measured").last.fill("user interviews held")
    goals.get_by_label("Baseline (now)").last.fill("0")
    goals.get_by_label("Target").last.fill("2")
    goals.get_by_role("button", name="Set the goal in this session").click()
    expect(tool.get_by_role("status")).to_contain_text("The goal is set in this session")
    for goal_title, action in (("Ask why in meetings", "Write three why-questions"),
                               ("Interview two users", "Book two interviews")):
        goal = tool.locator(".part-goals article.goal", has_text=goal_title)
        goal.get_by_label("Action", exact=True).fill(action)
        goal.get_by_label("Due").fill(date(day.year, 1, 29).isoformat())
        goal.get_by_role("button", name="Add the action").click()
        expect(tool.locator(".part-goals article.goal", has_text=goal_title)).to_contain_text(
            action)
    with app.app_context():
        linked = db.session.scalars(select(Goal).where(Goal.session_id.is_not(None))).all()
        assert sorted(g.title for g in linked) == ["Ask why in meetings", "Interview two users"]
    # The guide from its heading: the clock and the first parts.
    tool.locator("#guide-heading").scroll_into_view_if_needed()
    [frame] = [f for f in page.frames if "/mentor/sessions/" in f.url]
    frame.evaluate("() => document.getElementById('guide-heading').scrollIntoView()")
    photograph(page, "session-guide", screenshots_dir)

    # 5. The mentor publishes the summary.
    tool.get_by_label("What was discussed").fill("Your profile: empathy is a strength, "
                                                 "questioning the area to grow.")
    tool.get_by_label("Next steps and the next session").fill("Bring your why-questions.")
    tool.get_by_role("button", name="Publish to the learner").click()
    expect(tool.get_by_role("status")).to_contain_text("The summary is published")

    # 6. The learner reads and acknowledges it, checks in, and proposes a goal.
    tool = _launch_as(page, platform, learner["name"])
    tool.get_by_role("link", name="My development plan").click()
    # On the page that stays: a click while timezone.js may still load it again can be lost.
    _expect_zone(tool, ZONE)
    tool.get_by_role("link", name="Read the summary").click()
    expect(tool.get_by_role("heading", level=1)).to_have_text("Summary of the session")
    expect(tool.locator(".summary-goal")).to_have_count(2)
    expect(tool.locator(".summary-goal", has_text="Ask why in meetings")).to_contain_text(
        "Write three why-questions")
    assert "PRIVATE-CANARY" not in tool.locator("body").inner_text()
    screenshot(page, "learner-summary", screenshots_dir)
    tool.get_by_role("button", name="I have read the summary").click()
    expect(tool.locator(".acknowledged")).to_contain_text("You acknowledged this summary")
    tool.get_by_role("link", name="← My development plan").click()
    goal = tool.locator("article.goal", has_text="Interview two users")
    goal.locator("summary", has_text="Check in").click()
    goal.get_by_label("Progress (%)").fill("50")
    goal.get_by_label("user interviews held").fill("1")
    goal.get_by_label("Note").fill("One interview done")
    goal.get_by_role("button", name="Save the check-in").click()
    expect(tool.get_by_role("status")).to_contain_text("Your check-in is saved")
    expect(tool.locator("article.goal", has_text="Interview two users").locator(
        "[data-check-ins]")).to_contain_text("One interview done")
    tool.locator("summary", has_text="Propose a goal of your own").click()
    proposal = tool.locator("details.propose-goal")
    proposal.get_by_label("Title").fill("Run a team retrospective")
    proposal.get_by_label("Dimension it develops").select_option(label="Learning orientation")
    proposal.get_by_label("Target date").fill(date(day.year, 2, 28).isoformat())
    proposal.get_by_role("button", name="Propose the goal").click()
    expect(tool.get_by_role("status")).to_contain_text("Your goal is proposed")
    assert "PRIVATE-CANARY" not in tool.locator("body").inner_text()

    # 7. The mentor accepts the proposal, and at the next session rates an attainment.
    tool = _launch_as(page, platform, mentor["name"])
    tool.get_by_role("link", name=learner["name"], exact=True).click()
    tool.get_by_role("link", name="Development plan: goals and sessions").click()
    proposed = tool.locator("article.goal", has_text="Run a team retrospective")
    proposed.get_by_role("button", name="Accept").click()
    expect(tool.get_by_role("status")).to_contain_text("Your decision is saved")
    with app.app_context():
        accepted = db.session.scalar(select(Goal).where(Goal.title == "Run a team retrospective"))
        assert accepted.proposal is Proposal.AGREED
        acknowledged = accepted  # the session is checked below
        assert acknowledged is not None
    tool.get_by_role("link", name="Book a session").click()
    tool.get_by_label("Date", exact=True).fill(date(day.year, 2, 12).isoformat())
    tool.get_by_label("Start time").fill("10:00")
    tool.get_by_role("radio", name="In person").check()
    tool.get_by_label("Location (in person)").fill("Room 2.14")
    tool.get_by_role("button", name="Book the session").click()
    expect(tool.get_by_role("status")).to_have_text("The session is booked.")
    # The next session's guide lists the open goals, with the learner's check-in, to review.
    reviewed = tool.locator(".part-goals article.open-goal", has_text="Interview two users")
    expect(reviewed).to_contain_text("One interview done")
    reviewed.get_by_label("Attainment (goal attainment scaling)").select_option("1")
    reviewed.get_by_label("Status", exact=True).select_option("achieved")
    reviewed.get_by_role("button", name="Save the review").click()
    expect(tool.get_by_role("status")).to_contain_text("The goal is reviewed")
    tool.get_by_role("link", name=re.compile("development plan$")).click()
    expect(tool.locator("article.goal", has_text="Interview two users").locator(
        "[data-attainment]")).to_have_text("+1: somewhat more than expected")
    with app.app_context():
        private = db.session.scalar(select(Note).where(Note.body.like("PRIVATE-CANARY%")))
        assert private.visibility is NoteVisibility.AUTHOR and private.agenda_part_id


def test_a_rating_chosen_before_the_zone_is_known_is_kept(page, platform, driver, app,
                                                          tool_server):
    """The learner chooses a rating while the page still shows the tool's default zone and its
    time-zone script has not run yet: the script does not load the page again (in the browser's
    zone) and throw the choice away, so "saved" means the rating is saved."""
    learner = driver.user("Learner", 0)
    mentor = driver.user("Instructor", 0)
    complete_by_http(driver, learner["id"], leaning_answers(high="empathy", low="questioning"))
    _book_a_session(page, platform, mentor, learner, date(utcnow().year + 1, 1, 15))
    tool = _launch_as(page, platform, learner["name"])
    held = []
    page.route("**/timezone.js*", lambda route: held.append(route))
    tool.get_by_role("link", name="My development plan").click()
    _expect_zone(tool, "UTC")
    rating = tool.locator(".session-card").get_by_label("How I see myself (1–10)").first
    rating.select_option("6")
    # Wait (pumping Playwright's events) until the browser has asked for the script.
    for _ in range(250):
        if held:
            break
        page.wait_for_timeout(20)
    held[0].continue_()
    page.unroute("**/timezone.js*")
    # The script has run and anything it started has finished: a reload would have landed.
    frame = next(f for f in page.frames if "/plan/" in f.url)
    frame.wait_for_load_state("networkidle")
    expect(rating).to_have_value("6")
    _expect_zone(tool, "UTC")
    tool.locator(".session-card").get_by_role("button", name="Save my preparation").click()
    expect(tool.get_by_role("status")).to_contain_text("Your preparation is saved")
    with app.app_context():
        assert db.session.scalar(select(SessionReflection)).ratings["empathy"]["rating"] == 6
    # The next page, untouched, reports the zone and is shown in it.
    _expect_zone(tool, ZONE)
