"""Response-quality flags as data: said in the reader's language, and left out of figures."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from lti_tool.extensions import db
from lti_tool.questionnaire import delivery
from lti_tool.questionnaire.quality_notes import quality_note, quality_notes
from lti_tool.questionnaire.responses import flagged_count, unflagged_completed_attempts
from lti_tool.questionnaire.scoring import (
    FlagKind,
    QualityFlag,
    QualityFlags,
    assess_quality,
    contradiction_from,
)
from lti_tool.questionnaire.versions import get_instrument
from tests.questionnaire.test_delivery import (
    INSTRUMENT,
    answer_everything,
    careful_answers,
    make_activity,
    make_launch,
    make_platform,
)

V1 = get_instrument("design_mindset", 1)
V2 = get_instrument("design_mindset", 2)
FLAGS = (
    QualityFlag(FlagKind.ATTENTION_CHECK, page=0, item="check1", expected=3, value=5),
    QualityFlag(FlagKind.ATTENTION_CHECK, page=2, item="check2", expected=6),
    QualityFlag(FlagKind.STRAIGHT_LINING, page=1, value=4, count=12, of=12),
    QualityFlag(FlagKind.TOO_FAST, page=3, seconds=9.5, count=12, minimum=1.5),
)


@pytest.fixture
def ctx(app):
    """An app context with one course and its activity; rolled back afterwards."""
    with app.app_context():
        yield make_activity(make_platform())
        db.session.rollback()


def test_flags_are_stored_as_data_and_read_back_unchanged():
    stored = QualityFlags(FLAGS).to_list()
    assert stored[0] == {"kind": "attention_check", "page": 0, "item": "check1",
                         "expected": 3, "value": 5}
    assert stored[3] == {"kind": "too_fast", "page": 3, "seconds": 9.5, "count": 12,
                         "minimum": 1.5}
    assert QualityFlags.from_list(stored).flags == FLAGS


def test_flags_are_said_in_english_with_the_instruments_words(app):
    with app.test_request_context(), force_locale("en"):
        assert quality_notes(FLAGS, V1) == (
            "Attention check check1 asked for 3 (Somewhat disagree) and got 5 (Somewhat agree).",
            "Attention check check2 asked for 6 (Agree) and got no answer.",
            "Page 2 (Problem): 12 of 12 statements got the same answer, 4 (Neither agree nor "
            "disagree).",
            "Page 4 (Self) took 9.5 s for 12 statements, under 1.5 s each.",
        )


def test_flags_are_said_in_polish_from_the_data(app):
    with app.test_request_context(), force_locale("pl"):
        notes = quality_notes(FLAGS, V1)
        # The instrument key works as well as the instrument (the template filter's way).
        assert quality_note(FLAGS[3].to_dict(), "design_mindset@1") == notes[3]
    assert notes[0] == ("Pytanie kontrolne check1 wymagało odpowiedzi 3 (Raczej się nie "
                        "zgadzam), a otrzymało 5 (Raczej się zgadzam).")
    assert "Problem" in notes[2] and "12 z 12" in notes[2]
    assert notes[3].startswith("Strona 4 (Postawa osobista)") and "9,5 s" in notes[3]
    assert not any("Page" in note or "Attention" in note for note in notes)


def test_a_flag_converted_without_details_is_still_said(app):
    with app.test_request_context(), force_locale("en"):
        assert quality_note({"kind": "straight_lining", "page": 1}, "design_mindset@1") == (
            "Page 2 (Problem): (nearly) the same answer to every statement.")
        assert quality_note({"kind": "too_fast", "page": 0}, None) == (
            "Page 1 (?) was answered too fast to have been read.")


def _submitted(ctx, answers, seconds=60):
    attempt = delivery.open_attempt(make_launch(ctx))
    for index, items in enumerate(INSTRUMENT.pages()):
        delivery.save_page(attempt, index, {item.id: answers[item.id] for item in items},
                           seconds)
    delivery.submit(attempt)
    return attempt


def test_figures_count_only_unflagged_completed_attempts(ctx):
    careful = _submitted(ctx, careful_answers(6))
    flagged = _submitted(ctx, careful_answers(6) | {"check1": 7})
    hurried = _submitted(ctx, careful_answers(5), seconds=2)
    in_progress = delivery.open_attempt(make_launch(ctx))
    answer_everything(in_progress)
    other_course = make_activity(make_platform())
    elsewhere = _submitted(other_course, careful_answers(6))

    counted = set(db.session.scalars(unflagged_completed_attempts(INSTRUMENT)))
    assert counted == {careful, elsewhere}
    in_course = set(db.session.scalars(
        unflagged_completed_attempts(INSTRUMENT, course_id=ctx.course.id)))
    assert in_course == {careful}
    assert flagged_count(INSTRUMENT, course_id=ctx.course.id) == 2
    assert flagged.result.flagged and hurried.result.flagged


def _answers(instrument, keyed=6, **raw):
    answers = {item.id: item.attention_check_expected if item.is_attention_check
               else (8 - keyed if item.reverse else keyed) for item in instrument.items}
    return answers | raw


def test_strong_agreement_with_an_item_and_its_reverse_twin_is_a_contradiction():
    # On the 1..7 scale "Agree" (6) and "Strongly agree" (7) are strong agreement.
    assert contradiction_from(V2) == 6
    assert assess_quality(V2, _answers(V2)).ok
    quality = assess_quality(V2, _answers(V2, col1=6, col3=7))
    assert quality.flags == (QualityFlag(FlagKind.CONTRADICTORY_PAIR, page=0, item="col3",
                                         value=7, twin="col1", twin_value=6),)
    assert quality.contradictory_pairs == (("col1", "col3"),)
    # Mild agreement with one of them is not a contradiction; strong with both on two pairs is
    # two findings.
    assert assess_quality(V2, _answers(V2, col1=7, col3=5)).ok
    two = assess_quality(V2, _answers(V2, col1=6, col3=6, opt1=7, opt3=7))
    assert two.contradictory_pairs == (("col1", "col3"), ("opt1", "opt3"))
    # Version 1 declares no twins: its attempts are judged as they always were.
    assert assess_quality(V1, _answers(V1, col1=6, col3=7)).ok


def test_a_contradiction_is_said_with_both_statements_in_the_readers_language(app):
    flag = QualityFlag(FlagKind.CONTRADICTORY_PAIR, page=0, item="col3", value=7,
                       twin="col1", twin_value=6)
    with app.test_request_context(), force_locale("en"):
        english = quality_note(flag, V2)
    with app.test_request_context(), force_locale("pl"):
        polish = quality_note(flag.to_dict(), "design_mindset@2")
    assert english == (
        "Page 1 (People): strong agreement both with “I look for teammates whose field of study "
        "or background differs from mine.” (6, Agree) and with its opposite, “I choose "
        "teammates whose field of study or background is similar to mine.” (7, Strongly "
        "agree).")
    assert polish.startswith("Strona 1 (Ludzie): zdecydowana zgoda")
    assert V2.item("col3").text.get("pl") in polish and "(6, Zgadzam się)" in polish
