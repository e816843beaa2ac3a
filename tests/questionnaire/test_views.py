"""The questionnaire over HTTP, as a learner's browser sees it after a real LTI launch."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from markupsafe import escape
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.figures import display
from lti_tool.questionnaire.models import Answer, Result
from lti_tool.questionnaire.scoring import score
from lti_tool.questionnaire.versions import current_instrument

INSTRUMENT = current_instrument()
PAGES = INSTRUMENT.pages()
LAST = len(PAGES) - 1


def careful_answers(keyed: int = 5) -> dict[str, int]:
    """Every item answered: `keyed` as it counts (reverse items mirrored), checks passed."""
    return {
        item.id: item.attention_check_expected if item.is_attention_check
        else (8 - keyed if item.reverse else keyed)
        for item in INSTRUMENT.items
    }


class _Page(HTMLParser):
    """The parts of a page a test looks at: radio inputs, fieldsets, scripts, links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.radios: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.fieldsets: list[str] = []
        self.legends = 0
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.inline_handlers: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.inline_handlers += [name for name in values if name.startswith("on")]
        if tag == "input" and values.get("type") == "radio":
            self.radios.append(values)
        elif tag == "label":
            self.labels.add(values.get("for") or "")
        elif tag == "fieldset":
            self.fieldsets.append(values.get("id") or "")
        elif tag == "legend":
            self.legends += 1
        elif tag == "script":
            self.scripts.append(values)
        elif tag == "a":
            self.links.append(values.get("href") or "")

    @property
    def checked(self) -> dict[str, str]:
        """Radio group name → checked value."""
        return {r["name"]: r["value"] for r in self.radios if "checked" in r}


class Learner:
    """One learner's browser after a launch: follows links and posts forms with the token."""

    def __init__(self, driver, index: int = 0) -> None:
        self.driver = driver
        self.user = driver.user("Learner", index)
        self.relaunch()

    def relaunch(self) -> requests.Response:
        """Launch again from the LMS and open the landing page."""
        self.launch = self.driver.launch(self.user["id"])
        self.token = self.launch.token
        return self.get(self.launch.landing_url)

    def url(self, path: str) -> str:
        return urljoin(self.driver.tool_url, path)

    def get(self, path: str, **params) -> requests.Response:
        params.setdefault("lt", self.token)
        return requests.get(self.url(path), params=params, allow_redirects=False)

    def post(self, path: str, data: dict | None = None) -> requests.Response:
        return requests.post(
            self.url(path), data={"lt": self.token, **(data or {})}, allow_redirects=False
        )

    def begin(self) -> int:
        """Press Start (or Resume); the attempt id."""
        response = self.post("/questionnaire/begin")
        assert response.status_code == 303, response.text
        self.attempt_id = int(re.search(r"/attempts/(\d+)/", response.headers["Location"])[1])
        return self.attempt_id

    def autosave(self, item_id, value, page, seconds=5, attempt_id=None, token=None):
        return requests.post(
            self.url(f"/questionnaire/attempts/{attempt_id or self.attempt_id}/answers"),
            json={"item_id": item_id, "value": value, "page": page, "seconds": seconds},
            headers={"X-Launch-Token": token or self.token},
        )

    def page_path(self, page: int, attempt_id=None) -> str:
        return f"/questionnaire/attempts/{attempt_id or self.attempt_id}/pages/{page}"

    def post_page(self, page: int, values: dict[str, object], go: str = "next", **extra):
        fields = {f"item-{item_id}": str(value) for item_id, value in values.items()}
        return self.post(self.page_path(page), {**fields, "go": go, **extra})

    def submit_all(self, answers: dict[str, int]) -> requests.Response:
        """Answer every page through the no-JavaScript form and submit."""
        self.begin()
        for index, items in enumerate(PAGES):
            go = "submit" if index == LAST else "next"
            response = self.post_page(index, {i.id: answers[i.id] for i in items}, go, seconds=60)
        return response


@pytest.fixture
def learner(driver):
    """The first learner, launched into the course's activity."""
    return Learner(driver)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# Start and pages --------------------------------------------------------------------------------


def test_the_start_page_explains_the_questionnaire(learner):
    page = learner.get(learner.launch.landing_url)
    assert page.status_code == 200
    assert escape(INSTRUMENT.title.get("en")) in page.text
    assert "takes about 10 minutes" in page.text
    assert "saved as soon as you give it" in page.text
    assert "continue later" in page.text
    assert ">Start</button>" in page.text


def test_start_opens_the_first_page_in_the_launch_locale(driver):
    def polish(claims, header):
        claims["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"]["locale"] = "pl"

    learner = Learner(driver)
    learner.launch = driver.launch(learner.user["id"], mutate=polish)
    learner.token = learner.launch.token
    assert escape(INSTRUMENT.title.get("pl")) in learner.get(learner.launch.landing_url).text
    learner.begin()
    page = learner.get(learner.page_path(0))
    assert escape(PAGES[0][0].text.get("pl")) in page.text
    assert "Zdecydowanie się zgadzam" in page.text


def test_a_page_is_an_accessible_form_without_inline_script(learner):
    learner.begin()
    response = learner.get(learner.page_path(0))
    assert response.status_code == 200
    html = response.text
    page = _Page(html)
    assert "Page 1 of 4" in html and f"0</span> of {len(INSTRUMENT.items)} answered" in html
    assert "<progress" in html
    assert page.fieldsets == [f"q-{item.id}" for item in PAGES[0]]
    assert page.legends == len(PAGES[0])
    assert len(page.radios) == 7 * len(PAGES[0])
    assert all(radio["id"] in page.labels for radio in page.radios)
    assert escape(PAGES[0][0].text.get("en")) in html and "Strongly disagree" in html
    assert page.inline_handlers == []
    assert page.scripts == [
        {"src": "/static/js/frame_resize.js", "defer": None},
        {"src": "/static/js/launch_token.js", "defer": None},
        {"src": "/static/js/questionnaire.js", "defer": None},
    ]
    assert 'aria-live="polite"' in html
    assert 'name="go" value="next"' in html and 'value="back"' not in html
    assert learner.get("/static/js/questionnaire.js").status_code == 200


def test_the_whole_questionnaire_through_autosave_and_forms(app, learner):
    # Keyed 5 everywhere, empathy 7 and optimism 2: one clear strength, one clear area.
    answers = careful_answers(5)
    answers.update({item.id: 1 if item.reverse else 7
                    for item in INSTRUMENT.items_for_dimension("empathy")})
    answers.update({item.id: 6 if item.reverse else 2
                    for item in INSTRUMENT.items_for_dimension("optimism")})
    learner.begin()
    # Pages 1 and 2 through autosave, as questionnaire.js does ...
    for index in (0, 1):
        for item in PAGES[index]:
            response = learner.autosave(item.id, answers[item.id], index)
            assert response.status_code == 200, response.text
            assert response.json()["saved"] is True
    assert response.json()["answered"] == len(PAGES[0]) + len(PAGES[1])
    # ... then Next on page 2 with nothing in the form, as a browser without JS would post.
    response = learner.post_page(1, {}, "next")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == learner.page_path(2)
    # Pages 3 and 4 through the form posts only.
    response = learner.post_page(2, {i.id: answers[i.id] for i in PAGES[2]}, "next")
    assert urlsplit(response.headers["Location"]).path == learner.page_path(3)
    last = learner.get(learner.page_path(LAST)).text
    assert 'name="go" value="submit"' in last and "Page 4 of 4" in last
    response = learner.post_page(LAST, {i.id: answers[i.id] for i in PAGES[LAST]}, "submit")
    assert response.status_code == 303
    results_path = f"/questionnaire/attempts/{learner.attempt_id}/results"
    assert urlsplit(response.headers["Location"]).path == results_path

    results = learner.get(results_path)
    assert results.status_code == 200
    profile = score(INSTRUMENT, answers)
    html = results.text
    # Overall 6.85 (empathy 10, optimism 2.5, the rest 7); its error √(10 × 0.768) / 10 = 0.28.
    assert profile.overall == pytest.approx(6.85)
    assert "<strong data-overall>6.9 (±0.3)</strong>" in html
    assert "Read this profile with care" not in html
    empathy, optimism = INSTRUMENT.dimension("empathy"), INSTRUMENT.dimension("optimism")
    strengths = html[html.index("<h3>Your strengths</h3>"):html.index("<h3>Areas to develop</h3>")]
    assert escape(empathy.in_a_team.get("en")) in strengths
    assert escape(empathy.overuse.get("en")) in strengths
    assert escape(empathy.bands.high.get("en")) in strengths
    areas = html[html.index("<h3>Areas to develop</h3>"):html.index("<h3>Within your usual")]
    assert escape(optimism.suggestions[0].get("en")) in areas
    assert escape(optimism.bands.low.get("en")) in areas
    assert "10.0 (±0.9)" in html and "2.5 (±0.9)" in html
    assert "<svg" in html and 'role="img"' in html
    assert "<table" in html and '<caption id="scores-caption">Scores by dimension' in html
    # Every description once: the page no longer repeats them.
    for dimension in INSTRUMENT.dimensions:
        assert html.count(str(escape(dimension.description.get("en")))) == 1, dimension.id
    assert "The course average appears once 5 learners have completed" in html
    assert count(app, Answer) == len(INSTRUMENT.items)


def test_a_new_launch_resumes_where_the_learner_stopped(learner):
    answers = careful_answers()
    learner.begin()
    learner.post_page(0, {i.id: answers[i.id] for i in PAGES[0]})
    learner.autosave(PAGES[1][0].id, 2, 1)
    learner.autosave(PAGES[1][2].id, 6, 1)
    learner.autosave(PAGES[2][0].id, 3, 2)

    start = learner.relaunch()
    assert "Resume" in start.text
    assert f"answered {len(PAGES[0]) + 3} of {len(INSTRUMENT.items)}" in start.text
    resume = next(href for href in _Page(start.text).links if "/pages/" in href)
    assert urlsplit(resume).path == learner.page_path(1)
    page = learner.get(urlsplit(resume).path)
    assert _Page(page.text).checked == {
        f"item-{PAGES[1][0].id}": "2", f"item-{PAGES[1][2].id}": "6"
    }
    # Start again (e.g. a double click on an old page) continues the same attempt.
    attempt_id = learner.attempt_id
    assert learner.begin() == attempt_id
    back = learner.get(learner.page_path(0))
    assert len(_Page(back.text).checked) == len(PAGES[0])


def test_submit_with_missing_answers_names_them(app, learner):
    answers = careful_answers()
    learner.begin()
    skipped = [PAGES[0][1], PAGES[LAST][0]]
    check = INSTRUMENT.attention_checks[0]
    for index, items in enumerate(PAGES[:-1]):
        learner.post_page(index, {
            i.id: answers[i.id] for i in items if i not in skipped and i is not check
        })
    last = {i.id: answers[i.id] for i in PAGES[LAST] if i not in skipped}
    response = learner.post_page(LAST, last, "submit")
    assert response.status_code == 422
    html = response.text
    assert "3 statements still need an answer" in html
    for item in [*skipped, check]:
        assert escape(item.text.get("en")) in html
    # Missing items on this page link to their fieldset, others to their page.
    assert f'href="#q-{PAGES[LAST][0].id}"' in html
    assert f'{learner.page_path(0)}?lt=' in html and f'#q-{PAGES[0][1].id}"' in html
    assert "Page 1: People" in html
    assert 'class="item missing"' in html
    assert count(app, Result) == 0
    # The last page's answers were kept although the submission was refused.
    assert len(_Page(html).checked) == len(PAGES[LAST]) - 1


def test_submitting_twice_is_harmless(app, learner):
    answers = careful_answers()
    first = learner.submit_all(answers)
    again = learner.post_page(LAST, {i.id: 1 for i in PAGES[LAST]}, "submit")
    assert again.status_code == 303
    # The same results page (each answer signs its link's token afresh).
    assert again.headers["Location"].split("?")[0] == first.headers["Location"].split("?")[0]
    assert count(app, Result) == 1
    # The pages of a submitted attempt lead to the results.
    page = learner.get(learner.page_path(0))
    assert page.status_code == 303 and "/results" in page.headers["Location"]


def test_autosave_after_submission_is_refused(learner):
    learner.submit_all(careful_answers())
    response = learner.autosave(PAGES[0][0].id, 3, 0)
    assert response.status_code == 409
    assert "already submitted" in response.json()["message"]
    response = learner.post_page(0, {PAGES[0][0].id: 3}, "next")
    assert response.status_code == 409 and "already submitted" in response.text
    start = learner.relaunch()
    assert "See your results" in start.text and ">Start</button>" not in start.text
    assert learner.post("/questionnaire/begin").status_code == 409


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"item_id": "emp1", "value": 9, "page": 0}, "whole number from 1 to 7"),
        ({"item_id": "emp1", "value": "x", "page": 0}, "whole number from 1 to 7"),
        ({"item_id": "nope", "value": 3, "page": 0}, "no statement 'nope'"),
        ({"item_id": "emp1", "value": 3, "page": 9}, "page index 9 does not exist"),
        ({"item_id": "emp1", "value": 3}, "page index must be a whole number"),
    ],
)
def test_bad_autosaves_get_400_and_lose_nothing(app, learner, body, message):
    learner.begin()
    assert learner.autosave("emp1", 4, 0).status_code == 200
    response = requests.post(
        learner.url(f"/questionnaire/attempts/{learner.attempt_id}/answers"),
        json=body, headers={"X-Launch-Token": learner.token},
    )
    assert response.status_code == 400
    assert message in response.json()["message"].lower()
    with app.app_context():
        assert [(a.item_id, a.value) for a in db.session.scalars(select(Answer))] == [("emp1", 4)]


def test_a_bad_form_gets_400_with_the_message_on_the_page(app, learner):
    learner.begin()
    first, second = PAGES[0][0].id, PAGES[0][1].id
    response = learner.post_page(0, {first: 3, second: 8})
    assert response.status_code == 400
    assert "were not saved" in response.text and "whole number from 1 to 7" in response.text
    assert _Page(response.text).checked[f"item-{first}"] == "3"
    assert count(app, Answer) == 0
    response = learner.post_page(7, {first: 3})
    assert response.status_code == 400 and "page index 7 does not exist" in response.text.lower()
    response = learner.post(learner.page_path(0), {"item-nope": "3", "go": "next"})
    assert response.status_code == 400 and "no statement" in response.text
    assert learner.get(learner.page_path(4)).status_code == 404


def test_an_expired_session_refuses_autosave_with_401_json(app, learner):
    from lti_tool.identity.models import utcnow
    from lti_tool.lti.models import LaunchSession

    learner.begin()
    learner.autosave("emp1", 4, 0)
    with app.app_context():
        for row in db.session.scalars(select(LaunchSession)):
            row.expires_dt = utcnow()
        db.session.commit()
    response = learner.autosave("emp2", 4, 0)
    assert response.status_code == 401 and response.json()["error"] == "session"
    learner.relaunch()
    assert learner.begin() == learner.attempt_id
    assert _Page(learner.get(learner.page_path(0)).text).checked == {"item-emp1": "4"}


# Isolation --------------------------------------------------------------------------------------


def test_a_learner_cannot_reach_another_learners_attempt(app, driver):
    alice, bob = Learner(driver, 0), Learner(driver, 1)
    alice.submit_all(careful_answers())
    bob.begin()
    guesses = [alice.attempt_id, alice.attempt_id + 5]
    for guess in guesses:
        assert bob.get(bob.page_path(0, attempt_id=guess)).status_code == 404
        assert bob.get(f"/questionnaire/attempts/{guess}/results").status_code == 404
        assert bob.autosave("emp1", 1, 0, attempt_id=guess).status_code == 404
        assert bob.post(bob.page_path(0, attempt_id=guess), {"item-emp1": "1"}).status_code == 404
    # Nor can anyone use a token in the URL alone to post.
    response = requests.post(
        bob.url(bob.page_path(0)) + f"?lt={bob.token}", data={"item-emp1": "1"}
    )
    assert response.status_code == 401
    assert count(app, Answer) == len(INSTRUMENT.items)


def test_a_mentor_is_refused_on_learner_pages(driver):
    alice = Learner(driver)
    alice.begin()
    mentor = driver.launch(driver.user("Instructor")["id"])
    headers = {"X-Launch-Token": mentor.token}
    base = alice.url(f"/questionnaire/attempts/{alice.attempt_id}")
    for url in (alice.url("/questionnaire/"), base + "/pages/0", base + "/results"):
        assert requests.get(url, params={"lt": mentor.token}).status_code == 403
    assert requests.post(base + "/answers", json={}, headers=headers).status_code == 403
    assert requests.post(alice.url("/questionnaire/begin"), headers=headers).status_code == 403


# Course average and retakes ---------------------------------------------------------------------


def test_the_course_average_appears_once_five_learners_have_submitted(driver):
    learners = [Learner(driver, index) for index in range(5)]
    # Never all 4s (keyed 4): straight-lining is flagged and left out of the average.
    for keyed, learner in zip((2, 3, 5, 6), learners[:4], strict=True):
        learner.submit_all(careful_answers(keyed))
    results = learners[0].get(f"/questionnaire/attempts/{learners[0].attempt_id}/results").text
    assert "The course average appears once 5 learners have completed" in results
    assert "Course average" not in results
    learners[4].submit_all(careful_answers(7))
    results = learners[0].get(f"/questionnaire/attempts/{learners[0].attempt_id}/results").text
    assert "The course average appears once" not in results
    assert '<th scope="col" class="number">Course average</th>' in results
    assert "Course average (5 learners)" in results  # the chart's second series
    average = sum(score(INSTRUMENT, careful_answers(k)).scores["empathy"] for k in (2, 3, 5, 6, 7))
    assert f'<td class="number">{display(average / 5)}</td>' in results


def test_a_mentor_allows_a_retake_and_earlier_results_stay(app, driver):
    learner = Learner(driver)
    learner.submit_all(careful_answers(3))
    first_attempt = learner.attempt_id
    with app.app_context():
        from lti_tool.questionnaire.models import Attempt

        person_id = db.session.get(Attempt, first_attempt).person_id
    mentor = driver.launch(driver.user("Instructor")["id"])
    allow = driver.tool_url + "/questionnaire/retakes"
    assert requests.post(
        allow, data={"lt": learner.token, "person_id": person_id}
    ).status_code == 403
    response = requests.post(allow, data={"lt": mentor.token, "person_id": person_id})
    assert response.status_code == 200 and "may now take the questionnaire again" in response.text
    assert requests.post(allow, data={"lt": mentor.token, "person_id": 99999}).status_code == 404

    start = learner.relaunch()
    assert "Take it again" in start.text
    second = learner.begin()
    assert second != first_attempt
    learner.post_page(0, {PAGES[0][0].id: 6})
    assert learner.get(f"/questionnaire/attempts/{first_attempt}/results").status_code == 200
    assert _Page(learner.get(learner.page_path(0)).text).checked == {f"item-{PAGES[0][0].id}": "6"}


def test_answers_and_submissions_arriving_at_once_are_stored_once(app, learner):
    from concurrent.futures import ThreadPoolExecutor

    answers = careful_answers()
    learner.begin()
    with ThreadPoolExecutor(8) as pool:
        saves = list(pool.map(lambda v: learner.autosave("emp1", v % 7 + 1, 0), range(16)))
        starts = list(pool.map(lambda _: learner.post("/questionnaire/begin"), range(8)))
    assert {r.status_code for r in saves} == {200} and {r.status_code for r in starts} == {303}
    assert count(app, Answer) == 1
    for index, items in enumerate(PAGES[:-1]):
        learner.post_page(index, {i.id: answers[i.id] for i in items})
    last = {i.id: answers[i.id] for i in PAGES[LAST]}
    with ThreadPoolExecutor(8) as pool:
        submits = list(pool.map(lambda _: learner.post_page(LAST, last, "submit"), range(8)))
    assert {r.status_code for r in submits} == {303}
    # One results page for all (each address carries its own short-lived link token).
    assert len({urlsplit(r.headers["Location"]).path for r in submits}) == 1
    assert count(app, Result) == 1


def test_next_past_unanswered_statements_says_so_on_the_next_page(learner):
    answers = careful_answers()
    learner.begin()
    left = PAGES[0][2]

    moved = learner.post_page(0, {i.id: answers[i.id] for i in PAGES[0] if i is not left})

    assert moved.status_code == 303 and "skipped=0" in moved.headers["Location"]
    page = learner.get(urlsplit(moved.headers["Location"]).path, skipped="0")
    assert "You left 1 statement on page 1 unanswered." in page.text
    assert f'#q-{left.id}"' in page.text
    # A complete page moves on without a word.
    complete = learner.post_page(1, {i.id: answers[i.id] for i in PAGES[1]})
    assert "skipped" not in complete.headers["Location"]
    assert "unanswered" not in learner.get(learner.page_path(2)).text


def test_an_open_attempt_with_no_answers_offers_start_not_resume(learner):
    learner.begin()

    start = learner.relaunch()

    assert ">Start<" in start.text and "Resume" not in start.text
    assert "You have answered" not in start.text


def test_an_autosave_is_a_few_statements_whatever_the_answers_so_far(app, learner):
    """Autosave is the request learners make most: one upsert for the answer, no answer rows
    loaded, the count from one COUNT; no more statements with 20 answers than with 1."""
    from sqlalchemy import event

    learner.begin()
    counts = []
    for answered in (1, 20):
        items = [item for page in PAGES[:2] for item in page][:answered]
        for item in items[:-1]:
            page = next(i for i, p in enumerate(PAGES) if item in p)
            assert learner.autosave(item.id, 3, page).status_code == 200
        seen: list[str] = []
        with app.app_context():
            engine = db.engine

        def listener(conn, cursor, statement, *rest, seen=seen):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", listener)
        try:
            last = items[-1]
            page = next(i for i, p in enumerate(PAGES) if last in p)
            response = learner.autosave(last.id, 5, page)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200 and response.json()["answered"] == answered
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 7, counts
