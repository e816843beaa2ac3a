"""A tour of every page of the tool in Chromium, in a course with something to show.

The tour builds its course through the tool's own pages: learners answer the questionnaire
(over HTTP, as the form without JavaScript would post it), one learner in the browser; the
mentor books a session and sets a goal with its forms. `every_page` then opens each page in
turn and yields its name, so that a test can check it (axe) or photograph it.

Pages that only ever answer a POST (a refused launch, the no-role page, the new-window page)
are shown by fulfilling a GET in the browser with the tool's very response, headers and all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from flask import url_for
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lti_tool.devplatform.claims import DEEP_LINKING
from lti_tool.extensions import db
from lti_tool.identity.models import Course, Person, Platform, ResourceLink, utcnow
from lti_tool.notifications.kinds import Kind
from lti_tool.notifications.unsubscribe import make_token
from lti_tool.questionnaire.versions import current_instrument
from tests.launch_driver import LaunchDriver
from tests.mentoring.seeding import answer_patterns, seed_cohort

INSTRUMENT = current_instrument()
#: Learners besides the one in the browser who complete the questionnaire: enough for the
#: course average and the histograms to appear.
OTHER_LEARNERS = 9
#: Responses in another course of the same platform, so that the installation holds 30 or
#: more: pooled reliability and installation percentiles appear on the results page.
ELSEWHERE = 21


def complete_by_http(driver: LaunchDriver, user_id: str, answers: dict[str, int]) -> str:
    """Launch as a learner, post every page of the questionnaire and submit; the absolute URL
    of the results page."""
    attempt = driver.launch(user_id)
    token = attempt.token
    begun = requests.post(urljoin(driver.tool_url, "/questionnaire/begin"),
                          data={"lt": token}, allow_redirects=False)
    assert begun.status_code == 303, begun.text[:500]
    page_url = urljoin(driver.tool_url, begun.headers["Location"]).split("?")[0]
    pages = INSTRUMENT.pages()
    for number, items in enumerate(pages):
        fields = {f"item-{item.id}": str(answers[item.id]) for item in items}
        go = "submit" if number == len(pages) - 1 else "next"
        url = re.sub(r"/pages/\d+$", f"/pages/{number}", page_url)
        saved = requests.post(url, data={"lt": token, "go": go, "seconds": "40", **fields},
                              allow_redirects=False)
        assert saved.status_code == 303, saved.text[:500]
    return urljoin(driver.tool_url, saved.headers["Location"])


def answer_page(page: Page, answers: dict[str, int]) -> None:
    """Choose an answer to every statement on the questionnaire page shown."""
    for fieldset in page.locator("fieldset.item").all():
        item_id = fieldset.get_attribute("data-item-id")
        fieldset.locator(f"input[value='{answers[item_id]}']").check()


def show_response(page: Page, url: str, response: requests.Response) -> None:
    """Show a response the tool gave elsewhere (to a POST) as if the browser got it at `url`."""
    headers = {k: v for k, v in response.headers.items()
               if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")}

    def fulfil(route):
        route.fulfill(status=response.status_code, headers=headers, body=response.content)

    page.route(url, fulfil)
    try:
        page.goto(url)
    finally:
        page.unroute(url, fulfil)


@dataclass
class Tour:
    """The course, its people and the way to every page."""

    app: object
    driver: LaunchDriver
    tool_url: str

    def __post_init__(self) -> None:
        self.learner = self.driver.user("Learner", 0)
        self.mentor = self.driver.user("Instructor", 0)
        self.learner_token = ""
        self.mentor_token = ""
        self.session_id = 0

    def url(self, endpoint: str, **values) -> str:
        """The tool's absolute URL of an endpoint."""
        with self.app.test_request_context():
            return self.tool_url + url_for(endpoint, **values)

    def launch(self, user: dict, **kwargs) -> str:
        """Launch as this user over HTTP; the absolute landing URL with its token."""
        attempt = self.driver.launch(user["id"], **kwargs)
        return urljoin(self.tool_url, attempt.landing_url)

    def other_learners_complete(self) -> None:
        """A cohort: several learners complete the questionnaire, each in their own way, and
        their scores reach the platform's gradebook (one pass of `flask grades sync`)."""
        patterns = answer_patterns()
        for index in range(1, OTHER_LEARNERS + 1):
            answers, _ = patterns[index % len(patterns)]
            if index == 1:
                # One response fails an attention check: flagged on the mentor's pages, and
                # its score held for review once the activity grades scores.
                answers = {**answers, "check1": 7}
            complete_by_http(self.driver, self.driver.user("Learner", index)["id"], answers)
        synced = self.app.test_cli_runner().invoke(args=["grades", "sync"])
        assert synced.exit_code == 0, synced.output
        self._responses_elsewhere()

    def _responses_elsewhere(self) -> None:
        with self.app.app_context():
            platform = db.session.scalar(select(Platform).where(
                Platform.issuer == self.driver.platform.issuer))
            course = Course(platform_id=platform.id, context_id="tour-elsewhere",
                            title="Another design course")
            db.session.add(course)
            db.session.flush()
            link = ResourceLink(platform_id=platform.id, course_id=course.id,
                                resource_link_id="tour-elsewhere-1")
            db.session.add(link)
            db.session.commit()
            seed_cohort(platform_id=platform.id, course_id=course.id,
                        resource_link_id=link.id, learners=ELSEWHERE, mix=False,
                        prefix="elsewhere")

    def every_page(self, page: Page) -> Iterator[str]:
        """Open each page of the tool in turn and yield its name (see PAGES)."""
        self.other_learners_complete()
        yield from self._learner_takes_the_questionnaire(page)
        yield from self._mentor(page)
        yield from self._learner_plan(page)
        yield from self._deep_linking(page)
        yield from self._open_pages(page)

    # --- the learner takes the questionnaire ----------------------------------------------

    def _learner_takes_the_questionnaire(self, page: Page) -> Iterator[str]:
        landing = self.launch(self.learner)
        self.learner_token = _token(landing)
        answers, _ = answer_patterns()[0]
        page.goto(landing)
        expect(page.get_by_role("button", name="Start")).to_be_visible()
        yield "learner-start"
        page.get_by_role("button", name="Start").click()
        expect(page.locator("fieldset.item").first).to_be_visible()
        answer_page(page, answers)
        yield "questionnaire-page"
        first = page.url  # with the launch token, which a page answering a POST lacks
        last = len(INSTRUMENT.pages()) - 1
        page.goto(re.sub(r"/pages/\d+", f"/pages/{last}", first))
        page.get_by_role("button", name="Submit").click()
        expect(page.locator("#missing-summary")).to_be_visible()
        yield "questionnaire-missing"
        for number in range(1, last + 1):
            page.goto(re.sub(r"/pages/\d+", f"/pages/{number}", first))
            answer_page(page, answers)
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("mindset profile")
        yield "results"

    # --- the mentor -----------------------------------------------------------------------

    def _mentor(self, page: Page) -> Iterator[str]:
        landing = self.launch(self.mentor)
        self.mentor_token = token = _token(landing)
        page.goto(landing)
        expect(page.get_by_role("table")).to_be_visible()
        yield "cohort"
        page.get_by_role("link", name="Cohort statistics").click()
        expect(page.locator(".histograms")).to_be_visible()
        yield "statistics"
        page.goto(landing)
        page.get_by_role("link", name=self.learner["name"], exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(self.learner["name"])
        yield "learner"
        page.get_by_role("link", name="Attempt 1").click()
        expect(page.get_by_role("heading", name="Answers in attempt 1")).to_be_visible()
        yield "attempt"
        # A retake at once, taken over HTTP, and the learner's change over time.
        page.get_by_role("button", name="Allow another attempt").click()
        expect(page.get_by_role("status")).to_contain_text("may now take the questionnaire")
        yield "retake-allowed"
        answers, _ = answer_patterns()[3]
        complete_by_http(self.driver, self.learner["id"], answers)
        page.goto(self.url("mentoring.learner_page", person_id=self._learner_id(), lt=token))
        expect(page.get_by_role("heading", name="Change over time")).to_be_visible()
        yield "learner-change"
        page.goto(self.url("mentoring.change_page", lt=token))
        expect(page.get_by_role("heading", level=1)).to_have_text("Change over time")
        yield "course-change"

        page.goto(self.url("sessions.index", lt=token))
        yield "sessions"
        page.get_by_role("link", name="Book a session").click()
        yield "session-new"
        day = date(utcnow().year + 1, 1, 15)
        page.get_by_label("Learner").select_option(label=self.learner["name"])
        page.get_by_label("Date", exact=True).fill(day.isoformat())
        page.get_by_label("Start time").fill("10:00")
        page.get_by_role("radio", name="In person").check()
        page.get_by_label("Location (in person)").fill("Room 2.14, Design Building")
        page.get_by_role("button", name="Book the session").click()
        expect(page.get_by_role("status")).to_have_text("The session is booked.")
        self.session_id = int(re.search(r"/mentor/sessions/(\d+)", page.url).group(1))
        page.get_by_label("What was discussed").fill("Your profile and one goal.")
        page.get_by_role("button", name="Publish to the learner").click()
        expect(page.get_by_role("status")).to_contain_text("The summary is published")
        yield "session"
        page.get_by_role("link", name=re.compile("^Prepare")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Preparation")
        yield "session-prepare"
        page.get_by_role("link", name="← Session guide").click()

        page.get_by_role("link", name=re.compile("development plan$")).click()
        page.get_by_role("link", name="New goal").click()
        yield "goal-new"
        page.get_by_label("Title").fill("Talk to three users")
        page.locator("input[name=dimension_ids]").first.check()
        page.get_by_label("Time-bound: target date").fill((day + timedelta(days=30)).isoformat())
        page.get_by_role("button", name="Set the goal").click()
        expect(page.get_by_role("status")).to_contain_text("The goal is saved.")
        goal = page.locator("article.goal")
        for title in ("Interview a library user", "Write down one surprise"):
            adding = goal.locator("details.add-action")
            if adding.get_attribute("open") is None:
                adding.locator("summary").click()
            goal.get_by_label("Action", exact=True).fill(title)
            goal.get_by_role("button", name="Add").click()
            goal = page.locator("article.goal")
            expect(goal.get_by_role("cell", name=title)).to_be_visible()
        yield "learner-plan"

        # Score mode: the flagged response's score waits for the mentor's review.
        page.goto(self.url("gradebook.settings", lt=token))
        page.get_by_role("radio", name=re.compile("^Score")).check()
        page.get_by_role("button", name="Save").click()
        page.goto(self.url("gradebook.sync_status", lt=token))
        expect(page.get_by_role("button", name=re.compile("^Send the score")).first).to_be_visible()
        yield "grades"
        page.goto(self.url("gradebook.settings", lt=token))
        yield "grade-settings"
        page.goto(self.url("programme.index", lt=token))
        expect(page.get_by_role("heading", level=1)).to_have_text("Mentoring programme")
        yield "programme"
        page.get_by_role("link", name=re.compile("^Programme evaluation")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Programme evaluation")
        yield "programme-evaluation"
        # The course assigns mentors; the lead takes the learner, and the cohort opens on them.
        page.goto(self.url("programme.index", lt=token))
        page.get_by_role("radio", name=re.compile("^mentors are assigned")).check()
        page.locator("#caseloads form").first.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("The caseload setting is saved.")
        page.get_by_label("Learner", exact=True).select_option(label=self.learner["name"])
        page.get_by_label("Mentor", exact=True).select_option(label=self.mentor["name"])
        page.get_by_role("button", name="Assign", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("The mentor is assigned.")
        page.goto(self.url("mentoring.cohort_page", lt=token))
        expect(page.locator(".caseload-switch")).to_contain_text("Showing your caseload")
        yield "cohort-caseload"

    # --- the learner's plan ---------------------------------------------------------------

    def _learner_id(self) -> int:
        with self.app.app_context():
            return db.session.scalar(select(Person.id).where(
                Person.sub == str(self.learner["id"])))

    def _learner_plan(self, page: Page) -> Iterator[str]:
        page.goto(self.url("questionnaire.comparison", lt=self.learner_token))
        expect(page.get_by_role("heading", level=1)).to_have_text("Your attempts compared")
        yield "comparison"
        page.goto(self.url("plan.index", lt=self.learner_token))
        expect(page.locator("article.goal")).to_be_visible()
        expect(page.locator(".my-mentors")).to_contain_text(self.mentor["name"])
        yield "plan"
        page.goto(self.url("plan.slots_page", lt=self.learner_token))
        yield "plan-slots"
        page.goto(self.url("plan.summary_page", session_id=self.session_id,
                           lt=self.learner_token))
        expect(page.get_by_role("heading", level=1)).to_have_text("Summary of the session")
        yield "plan-summary"
        page.goto(self.url("notifications.settings", lt=self.learner_token))
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("E-mail|e-maili"))
        yield "mail-settings"
        with self.app.test_request_context():
            person = db.session.scalar(select(Person).where(Person.sub == self.learner["id"]))
            token = make_token(person.id, Kind.SESSION_REMINDER)
        page.goto(self.url("notifications.unsubscribe", token=token))
        yield "unsubscribe"

    def _deep_linking(self, page: Page) -> Iterator[str]:
        page.goto(self.launch(self.mentor, message_type=DEEP_LINKING))
        expect(page.get_by_role("button", name="Add to the course")).to_be_visible()
        yield "deep-link"

    # --- pages without a launch, and the ways a launch can fail ---------------------------

    def _open_pages(self, page: Page) -> Iterator[str]:
        page.goto(self.url("lti.registration_info"))
        yield "registration"
        page.goto(self.url("lti.register"))
        yield "register-info"
        page.goto(self.url("lti.register", openid_configuration="ftp://lms.example.edu/x"))
        yield "register-problem"
        page.goto(self.tool_url + "/no-such-page")
        yield "not-found"
        page.goto(self.url("questionnaire.start", lt="an-ended-launch"))
        yield "session-expired"
        page.goto(self.url("lti.login"))
        yield "launch-error"

        def without_role(claims, header):
            claims["https://purl.imsglobal.org/spec/lti/claim/roles"] = []

        attempt = self.driver.launch(self.learner["id"], mutate=without_role)
        show_response(page, self.tool_url + "/lti/launch", attempt.launch_response)
        yield "no-role"
        # The state cookie blocked: the tool asks the platform's storage, or offers a window.
        for storage, name in ((True, "platform-storage"), (False, "new-window")):
            self.driver.platform.settings["platform_storage"] = storage
            attempt = self.driver.authorize(self.driver.login(self.learner["id"]))
            response = self.driver.post_launch(attempt, cookies={})
            show_response(page, self.tool_url + "/lti/launch", response)
            yield name
        page.goto(self.url("dataprotection.privacy"))
        yield "privacy"


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["lt"][0]


#: Every page the tour opens, in order.
PAGES = (
    "learner-start", "questionnaire-page", "questionnaire-missing", "results",
    "cohort", "statistics", "learner", "attempt", "retake-allowed", "learner-change",
    "course-change", "sessions", "session-new", "session", "session-prepare",
    "goal-new", "learner-plan", "grades", "grade-settings", "programme", "programme-evaluation",
    "cohort-caseload", "comparison", "plan", "plan-slots", "plan-summary", "mail-settings",
    "unsubscribe",
    "deep-link",
    "registration", "register-info", "register-problem", "not-found", "session-expired",
    "launch-error", "no-role", "platform-storage", "new-window", "privacy",
)
