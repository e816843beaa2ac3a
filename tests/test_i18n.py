"""English and Polish: the catalog is complete, and a Polish launch meets no English.

A learner and a mentor launch from the development platform with
`launch_presentation.locale = "pl-PL"` and walk every page they can reach. Each page's text
(text nodes, and the aria-label, title and placeholder attributes) is compared with every
English message of the catalog: a text that reads like an English message means a string was
left untranslated. An English launch still reads English, and the choice of language follows
the launch, then the browser.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from markupsafe import escape
from sqlalchemy import select

from lti_tool import i18n
from lti_tool.extensions import db
from lti_tool.identity.models import Person, ResourceLink
from lti_tool.mentoring.timezones import Clock
from lti_tool.questionnaire.versions import current_instrument

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "lti_tool" / "translations" / "pl" / "LC_MESSAGES" / "messages.po"
TEMPLATE = ROOT / "lti_tool" / "translations" / "messages.pot"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
INSTRUMENT = current_instrument()
POLISH_PLURALS = "(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)"
#: Words Polish uses as they are; any other "translation" equal to its English is a copy.
SAME_IN_POLISH = {"E-mail", "Online", "Online:", "Mentor", "Agenda", "Client ID", "Deployment ID",
                  "Dynamic Registration"}
#: English words that no Polish sentence of the tool contains: a text with two of them is
#: English that never went through the catalog.
ENGLISH_WORDS = {"the", "and", "your", "you", "of", "is", "are", "with", "for", "this", "has",
                 "have", "not", "will", "been", "from", "yet", "any", "which"}
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def _catalog():
    with CATALOG.open("rb") as po_file:
        return read_po(po_file, locale="pl")


# -- the catalog ------------------------------------------------------------------------------

def _source_messages() -> set[str]:
    """Every msgid in the code and templates, extracted as `make messages` does."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_in_the_code_has_a_polish_translation():
    catalog = _catalog()
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[key] = all(form.strip() for form in forms) and not message.fuzzy
    missing = sorted(key for key in _source_messages() if not translated.get(key))
    assert not missing, f"{len(missing)} messages lack a Polish translation: {missing[:10]}"
    stale = sorted(set(translated) - _source_messages())
    assert not stale, f"the catalog holds messages the code no longer has: {stale[:10]}"
    copied = sorted(m.id for m in catalog if m.id and not isinstance(m.id, tuple)
                    and m.string == m.id and m.id not in SAME_IN_POLISH)
    assert not copied, f"English copied as the Polish: {copied}"


def test_the_catalog_has_three_polish_plural_forms_and_matching_placeholders():
    catalog = _catalog()
    assert catalog.num_plurals == 3
    assert catalog.plural_expr.replace(" ", "") == POLISH_PLURALS.replace(" ", "")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            assert len(message.string) == 3, message.id
            english = set(_PLACEHOLDER.findall(" ".join(message.id)))
            for form in message.string:
                assert set(_PLACEHOLDER.findall(form)) - {"%(num)d"} == english - {"%(num)d"}, form
        else:
            assert sorted(_PLACEHOLDER.findall(message.id)) == sorted(
                _PLACEHOLDER.findall(message.string)), message.id


def test_the_template_lists_the_same_messages_as_the_catalog():
    with TEMPLATE.open("rb") as pot_file:
        template = read_po(pot_file)
    assert {m.id for m in template if m.id} == {m.id for m in _catalog() if m.id}


def test_polish_plurals_follow_the_number(app):
    from flask_babel import force_locale, ngettext

    with app.test_request_context(), force_locale("pl"):
        words = [ngettext("%(num)d statement", "%(num)d statements", n) for n in (1, 2, 5, 12, 22)]
    assert words == ["1 stwierdzenie", "2 stwierdzenia", "5 stwierdzeń", "12 stwierdzeń",
                     "22 stwierdzenia"]


# -- choosing the language ---------------------------------------------------------------------

@pytest.mark.parametrize(("launch", "browser", "expected"), [
    ("pl", None, "pl"), ("pl-PL", "en", "pl"), ("pl_PL", None, "pl"), ("en-GB", "pl", "en"),
    ("de-DE", "pl-PL,pl;q=0.9", "pl"), ("de", None, "en"), (None, "pl", "pl"),
    (None, "fr, en;q=0.5", "en"), (None, None, "en"),
])
def test_the_launch_decides_then_the_browser_then_english(app, launch, browser, expected):
    headers = {"Accept-Language": browser} if browser else {}
    with app.test_request_context(headers=headers):
        assert i18n.page_language(launch) == expected


def test_a_polish_clock_names_days_and_months_in_polish():
    moment = datetime(2026, 3, 3, 9, 0)
    clock = Clock(ZoneInfo("Europe/Warsaw"), "pl")
    assert clock.day(moment) == "wt. 3 marca 2026"
    assert clock.when(moment, moment + timedelta(minutes=90)) == "wt. 3 marca 2026, 10:00–11:30 CET"
    assert Clock(ZoneInfo("Europe/Warsaw")).day(moment) == "Tue 3 March 2026"


def test_a_day_reads_as_flask_babels_medium_date_in_either_language(app):
    """format_day remembers what it wrote; it must write what format_date(…, "medium")
    writes, in the page's language, whichever language asked first."""
    from datetime import datetime

    from flask_babel import force_locale, format_date

    from lti_tool.i18n import format_day

    moments = [datetime(2026, 3, 3, 0, 0), datetime(2026, 3, 3, 23, 59, 59),
               datetime(2026, 12, 31, 12, 0), datetime(2027, 1, 1, 0, 0, 1)]
    with app.test_request_context():
        for language in ("pl", "en", "pl"):
            with force_locale(language):
                for moment in moments:
                    assert format_day(moment) == format_date(moment, "medium")
        with force_locale("pl"):
            assert format_day(datetime(2026, 3, 3, 23, 59)) == "3 mar 2026"
        with force_locale("en"):
            assert format_day(datetime(2026, 3, 3, 23, 59)) == "3 Mar 2026"


def test_a_translated_message_is_escaped_like_any_text(app):
    message = i18n.lazy_gettext("There is no page %(page)s.", page="<script>")
    with app.test_request_context():
        assert str(escape(message)) == "There is no page &lt;script&gt;."


def test_a_missing_mo_is_compiled_at_start_up(tmp_path):
    folder = tmp_path / "pl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_bytes(CATALOG.read_bytes())
    i18n.compile_catalogs(tmp_path)
    assert (folder / "messages.mo").stat().st_size > 1000


# -- Polish pages ------------------------------------------------------------------------------

def _english_patterns() -> list[re.Pattern]:
    """One pattern per English text piece a page could show for an untranslated message.

    A message is cut at its HTML tags (each piece becomes its own text node) and its
    placeholders match anything. Pieces without a word of three letters, and pieces the Polish
    says the same way ("Online", "E-mail", "<strong>Mentoring</strong>"), are left out.
    """
    patterns = []
    for message in _catalog():
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        polish = message.string if isinstance(message.string, tuple) else (message.string,)
        same = {" ".join(piece.split()) for text in polish for piece in re.split(r"<[^>]+>", text)}
        for text in english:
            for piece in re.split(r"<[^>]+>", text.replace("%%", "%")):
                if " ".join(piece.split()) in same:
                    continue
                literal = _PLACEHOLDER.split(piece)
                if not re.search(r"[A-Za-z]{3}", " ".join(literal)):
                    continue
                words = [r"\s+".join(map(re.escape, part.split())) for part in literal]
                patterns.append(re.compile(r"\s*(?:.*?)\s*".join(words), re.IGNORECASE))
    return patterns


class _Texts(HTMLParser):
    """The words a person meets on a page: text outside scripts, labels read aloud, tips."""

    ATTRIBUTES = ("aria-label", "title", "placeholder")

    def __init__(self, html: str) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.texts += [value for name, value in attrs if name in self.ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


class PolishCheck:
    """Fails on a page showing a text that reads like one of the catalog's English messages.

    `names` are data that may read like a message: the platform's title for the activity is
    "Design Mindset questionnaire", as the tool suggests when the activity is added.
    """

    def __init__(self, names: set[str]) -> None:
        self.patterns = _english_patterns()
        self.names = names
        self.pages: list[str] = []

    def __call__(self, response: requests.Response, status: int = 200) -> str:
        assert response.status_code == status, (response.url, response.text[:1500])
        html = response.text
        assert '<html lang="pl">' in html, response.url
        english = [text for text in _Texts(html).texts if text not in self.names and (
            any(pattern.fullmatch(text) for pattern in self.patterns)
            or len(ENGLISH_WORDS & set(re.findall(r"[a-z]+", text.lower()))) >= 2)]
        assert not english, f"untranslated on {response.url}: {english}"
        self.pages.append(urlsplit(response.url).path)
        return html


def polish(claims, header):
    """The launch as Moodle sends it for a user whose language is Polish."""
    claims[CLAIM + "launch_presentation"]["locale"] = "pl-PL"


class Browser:
    """One person's browser after a Polish launch: the launch token in every request. Its
    Accept-Language is English, so a Polish page shows that the launch's locale decides."""

    def __init__(self, driver, role: str, index: int = 0) -> None:
        self.driver = driver
        self.user = driver.user(role, index)
        self.launch = driver.launch(self.user["id"], mutate=polish)
        self.token = self.launch.token
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"

    def url(self, path: str) -> str:
        return urljoin(self.driver.tool_url, path)

    def get(self, path: str, **params) -> requests.Response:
        return self.http.get(self.url(path), params={"lt": self.token, **params},
                             allow_redirects=False)

    def post(self, path: str, **form) -> requests.Response:
        response = self.http.post(self.url(path), data={"lt": self.token, **form},
                                  allow_redirects=False)
        assert response.status_code in (200, 303, 400, 409, 422), response.text[:1500]
        return response

    def follow(self, response: requests.Response) -> requests.Response:
        assert response.status_code == 303, response.text[:1500]
        return self.http.get(self.url(response.headers["Location"]), allow_redirects=False)


def _answers(page: int) -> dict[str, str]:
    return {
        f"item-{item.id}": str(item.attention_check_expected if item.is_attention_check
                               else 3 if item.reverse else 5)
        for item in INSTRUMENT.pages()[page]
    }


def test_a_polish_learner_and_mentor_meet_no_english(app, driver):
    learner = Browser(driver, "Learner")
    with app.app_context():
        check = PolishCheck(set(db.session.scalars(select(ResourceLink.title))))
    check(learner.launch.landing_response(driver))

    # The questionnaire: a page, a refused submission naming what is missing, then all of it.
    begun = learner.post("/questionnaire/begin")
    page_url = begun.headers["Location"]
    attempt_id = int(re.search(r"/attempts/(\d+)/", page_url)[1])
    check(learner.follow(begun))
    last = len(INSTRUMENT.pages()) - 1
    form = f"/questionnaire/attempts/{attempt_id}/pages/{last}"
    check(learner.post(form, go="submit"), status=422)
    for page in range(last):
        learner.post(f"/questionnaire/attempts/{attempt_id}/pages/{page}", go="next",
                     **_answers(page))
    check(learner.get(f"/questionnaire/attempts/{attempt_id}/pages/0"))
    results = check(learner.follow(learner.post(form, go="submit", **_answers(last))))
    assert "Twój profil nastawienia Design Thinking" in results
    check(learner.get("/questionnaire/"))
    with app.app_context():
        learner_id = db.session.scalar(select(Person.id).where(
            Person.sub == str(learner.user["id"])))

    # The mentor: cohort, statistics, the learner, a goal with an action, a session, slots.
    mentor = Browser(driver, "Instructor")
    check(mentor.launch.landing_response(driver))
    check(mentor.get("/mentor/statistics"))
    learner_page = check(mentor.get(f"/mentor/learners/{learner_id}"))
    check(mentor.get(f"/mentor/learners/{learner_id}/attempts/{attempt_id}"))
    assert "Odpowiedzi w podejściu 1" in learner_page or "Podejście 1" in learner_page
    check(mentor.get(f"/mentor/learners/{learner_id}/goals/new"))
    dimension = INSTRUMENT.dimensions[0]
    check(mentor.get(f"/mentor/learners/{learner_id}/goals/new", dimension=dimension.id,
                     suggestion="0"))
    in_a_week = (date.today() + timedelta(days=7)).isoformat()
    goal = mentor.post(f"/mentor/learners/{learner_id}/goals", tz="Europe/Warsaw",
                       title="Rozmowy z użytkownikami", dimension_ids=dimension.id,
                       target_date=in_a_week, status="active")
    goal_id = int(goal.headers["Location"].rsplit("#goal-", 1)[1])
    check(mentor.follow(goal))
    mentor.post(f"/mentor/goals/{goal_id}/actions", tz="Europe/Warsaw",
                title="Trzy rozmowy", owner="learner", due_date=in_a_week)
    check(mentor.get(f"/mentor/goals/{goal_id}/edit"))
    check(mentor.get("/mentor/sessions/new", learner_id=str(learner_id)))
    booked = mentor.post("/mentor/sessions/", tz="Europe/Warsaw", learner_id=str(learner_id),
                         date=in_a_week, time="10:00", minutes="90", mode="in_person",
                         location="Sala 2.14", agenda="Omówienie profilu")
    session_page = check(mentor.follow(booked))
    assert "Godziny są podane w strefie czasowej Europe/Warsaw" in session_page
    session_id = int(re.search(r"/mentor/sessions/(\d+)", booked.headers["Location"])[1])
    mentor.post(f"/mentor/sessions/{session_id}/notes", tz="Europe/Warsaw",
                visibility="shared", body="Dobra rozmowa.")
    check(mentor.get(f"/mentor/sessions/{session_id}"))
    # The session guide: a goal set in the session, the summary published, the preparation.
    check(mentor.follow(mentor.post(f"/mentor/sessions/{session_id}/goals", tz="Europe/Warsaw",
                                    title="Pytać dlaczego", dimension_ids=dimension.id)))
    check(mentor.follow(mentor.post(f"/mentor/sessions/{session_id}/summary",
                                    tz="Europe/Warsaw", discussed="Profil i cele.",
                                    publish="1")))
    check(mentor.follow(mentor.post(f"/mentor/goals/{goal_id}/check-ins", tz="Europe/Warsaw",
                                    progress="20", note="Dobry start")))
    check(mentor.get(f"/mentor/sessions/{session_id}/prepare"))
    refused = mentor.post(f"/mentor/sessions/{session_id}/reschedule", tz="Europe/Warsaw",
                          date="wczoraj", time="10:00", mode="in_person", location="Sala")
    assert "RRRR-MM-DD" in check(refused, status=400)
    check(mentor.post("/mentor/slots", tz="Europe/Warsaw", first_day=in_a_week, days="2",
                      times="12:00, 14:00", minutes="60", mode="online",
                      meeting_url="https://meet.example.edu/dmd"))
    check(mentor.get("/mentor/sessions/"))
    check(mentor.get(f"/mentor/learners/{learner_id}/plan"))
    cohort = check(mentor.get("/mentor/"))
    assert "twoi uczestnicy" in cohort
    check(mentor.get("/mentor/", q="nikt-taki"))
    check(mentor.get("/gradebook/"))
    check(mentor.get("/gradebook/settings"))
    check(mentor.follow(mentor.post("/gradebook/settings", grade_mode="score")))
    check(mentor.get("/mentor/programme/"))
    check(mentor.follow(mentor.post("/mentor/programme/privacy", answers_to_mentors="0")))
    # Caseloads: mentors assigned, the lead takes the learner, the cohort opens on the caseload.
    check(mentor.follow(mentor.post("/mentor/programme/settings", mode="assigned")))
    with app.app_context():
        mentor_id = db.session.scalar(select(Person.id).where(
            Person.sub == str(mentor.user["id"])))
    check(mentor.post("/mentor/programme/assignments/balance"), status=400)
    check(mentor.follow(mentor.post("/mentor/programme/assignments", learner_id=str(learner_id),
                                    mentor_id=str(mentor_id))))
    assert "Pokazani są uczestnicy przydzieleni tobie" in check(mentor.get("/mentor/"))
    check(mentor.get("/mentor/", view="course"))
    check(mentor.get("/mentor/programme/evaluation"))
    check(mentor.follow(mentor.post("/mentor/programme/retakes", opens="2099-01-01")))
    check(mentor.post("/mentor/programme/retakes", opens="jutro"), status=400)
    check(mentor.follow(mentor.post("/mentor/programme/retakes", action="remove")))

    # Change over time: nothing to compare, a retake from a date, then at once; two attempts.
    check(learner.get("/questionnaire/comparison"), status=404)
    check(mentor.post("/questionnaire/retakes", person_id=str(learner_id),
                      retake_from="2099-01-01"))
    check(learner.get("/questionnaire/"))
    check(mentor.post("/questionnaire/retakes", person_id=str(learner_id), retake_from=""))
    check(learner.get("/questionnaire/"))
    again = learner.post("/questionnaire/begin")
    second_id = int(re.search(r"/attempts/(\d+)/", again.headers["Location"])[1])
    for page in range(last):
        learner.post(f"/questionnaire/attempts/{second_id}/pages/{page}", go="next",
                     **_answers(page))
    check(learner.follow(learner.post(f"/questionnaire/attempts/{second_id}/pages/{last}",
                                      go="submit", **_answers(last))))
    compared = check(learner.get("/questionnaire/comparison"))
    assert "w granicach zwykłej zmienności" in compared
    assert "w granicach zwykłej zmienności" in check(mentor.get(f"/mentor/learners/{learner_id}"))
    check(mentor.get("/mentor/change"))

    # The learner's plan, with the goal, the session and slots to book; the learner's own
    # page of free slots, and what the learner may not open.
    plan = check(learner.get("/plan/"))
    assert "Mój plan rozwoju" in plan and "Trzy rozmowy" in plan
    assert "Twój mentor:" in plan
    check(learner.get("/plan/slots"))
    check(learner.follow(learner.post(f"/plan/sessions/{session_id}/preparation",
                                      tz="Europe/Warsaw", text="Chcę lepiej pytać.")))
    check(learner.get(f"/plan/sessions/{session_id}/summary"))
    check(learner.follow(learner.post(f"/plan/sessions/{session_id}/summary/acknowledge",
                                      tz="Europe/Warsaw")))
    check(learner.follow(learner.post("/plan/goals", tz="Europe/Warsaw", title="Szkicować",
                                      dimension_id=dimension.id, target_date=in_a_week)))
    check(mentor.get(f"/mentor/learners/{learner_id}/plan"))
    check(learner.get(f"/questionnaire/attempts/{attempt_id}/results"))
    check(learner.get("/mentor/"), status=403)
    check(mentor.get("/mentor/learners/999999"), status=404)

    # An observer of the learner (Canvas's parent): the list and the learner's plan.
    def polish_observer(claims, header):
        polish(claims, header)
        claims[CLAIM + "roles"] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"]
        claims[CLAIM + "role_scope_mentor"] = [str(learner.user["id"])]

    observer = driver.launch(driver.user("Learner", 7)["id"], mutate=polish_observer)
    watching = check(learner.http.get(urljoin(learner.url("/"), observer.landing_url),
                                      allow_redirects=False))
    assert "Osoby uczące się, które obserwujesz" in watching
    check(learner.http.get(learner.url(f"/observe/learners/{learner_id}"),
                           params={"lt": observer.token}, allow_redirects=False))

    # Pages without a launch follow the browser.
    stranger = {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}
    check(requests.get(learner.url("/questionnaire/"), params={"lt": "zepsuty"},
                       headers=stranger), status=401)
    check(requests.get(learner.url("/nie-ma-takiej-strony"), headers=stranger), status=404)
    check(requests.get(learner.url("/privacy"), headers=stranger))
    assert "Zarejestruj narzędzie w LMS" in check(requests.get(learner.url("/"),
                                                                headers=stranger))

    # A launch the tool refuses follows the browser; a launch without a course role, its own
    # locale.
    attempt = driver.authorize(driver.login(learner.user["id"]))
    forged = driver.forge(attempt.id_token, lambda claims, header: claims.update(
        {CLAIM + "version": "1.1"}))
    refused = check(driver.post_launch(attempt, id_token=forged, headers=stranger), status=400)
    assert "Nie udało się otworzyć narzędzia" in refused
    no_role = driver.launch(learner.user["id"], mutate=lambda claims, header: (
        polish(claims, header), claims.update({CLAIM + "roles": []})))
    assert "wymaga roli w kursie" in check(no_role.launch_response, status=403)
    assert len(check.pages) >= 30


def test_an_english_launch_still_reads_english(driver):
    user = driver.user("Learner")
    attempt = driver.launch(user["id"])
    page = requests.get(urljoin(driver.tool_url, attempt.landing_url),
                        headers={"Accept-Language": "pl"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "statements" in page.text and ">Start<" in page.text
    assert "stwierdze" not in page.text
    assert parse_qs(urlsplit(attempt.landing_url).query)["lt"]
