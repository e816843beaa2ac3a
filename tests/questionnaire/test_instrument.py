"""The instrument definition as data, and the loader that validates it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lti_tool.questionnaire.definition import load_instrument, load_instrument_text
from lti_tool.questionnaire.instrument import InstrumentError, LocalisedText, UnknownInstrument
from lti_tool.questionnaire.versions import (
    BUNDLED_FOLDER,
    available_instruments,
    current_instrument,
    get_instrument,
    shared_dimensions,
)

VIGNOLI_DIMENSIONS = {
    "ambiguity", "empathy", "holistic", "collaboration", "learning", "experimentation",
    "questioning", "abductive", "creative_confidence", "optimism",
}


def all_texts(instrument):
    """Every user-facing text of an instrument, with where it comes from."""
    yield "title", instrument.title
    yield "intro", instrument.intro
    for point in instrument.scale.points:
        yield f"scale label {point}", instrument.scale.label(point)
    for area in instrument.areas:
        yield f"{area.id} title", area.title
        yield f"{area.id} description", area.description
    for dimension in instrument.dimensions:
        yield f"{dimension.id} name", dimension.name
        yield f"{dimension.id} description", dimension.description
        yield f"{dimension.id} strength", dimension.strength
        yield f"{dimension.id} in_a_team", dimension.in_a_team
        yield f"{dimension.id} overuse", dimension.overuse
        for level in ("low", "moderate", "high"):
            yield f"{dimension.id} {level} band", dimension.bands.text(level)
        for number, suggestion in enumerate(dimension.suggestions, start=1):
            yield f"{dimension.id} suggestion {number}", suggestion
    for item in instrument.items:
        yield f"item {item.id}", item.text


# The bundled instrument -------------------------------------------------------------------------


@pytest.fixture(params=[1, 2], ids=["v1", "v2"])
def instrument(request):
    """Each bundled version: both must stay complete and valid."""
    return get_instrument("design_mindset", request.param)


def test_new_attempts_use_version_2_and_version_1_stays():
    assert current_instrument().key == "design_mindset@2"
    assert set(available_instruments()) == {"design_mindset@1", "design_mindset@2"}


def test_ten_dimensions_in_four_areas(instrument):
    assert {dimension.id for dimension in instrument.dimensions} == VIGNOLI_DIMENSIONS
    assert [area.id for area in instrument.areas] == ["people", "problem", "action", "self"]
    for area in instrument.areas:
        assert len(instrument.dimensions_for_area(area.id)) >= 2


def test_scale_is_seven_labelled_points(instrument):
    assert list(instrument.scale.points) == [1, 2, 3, 4, 5, 6, 7]
    assert instrument.scale.label(1).get() == "Strongly disagree"
    assert instrument.scale.label(7).get("pl") == "Zdecydowanie się zgadzam"


def test_each_dimension_has_four_or_five_items_one_reverse_keyed(instrument):
    assert 40 <= len(instrument.scored_items) <= 50
    for dimension in instrument.dimensions:
        items = instrument.items_for_dimension(dimension.id)
        assert 4 <= len(items) <= 5, dimension.id
        assert any(item.reverse for item in items), dimension.id


def test_each_dimension_explains_itself_and_suggests_at_least_three_steps(instrument):
    for dimension in instrument.dimensions:
        assert len(dimension.suggestions) >= 3, dimension.id
        # Two or three sentences: what it is and why it matters.
        assert 2 <= dimension.description.get().count(". ") + 1 <= 3, dimension.id
        assert dimension.strength.get()


def test_every_dimension_names_where_its_precision_comes_from(instrument):
    for dimension in instrument.dimensions:
        precision = dimension.precision
        assert 0.6 <= precision.reliability < 1 and 0 < precision.sd < 3, dimension.id
        # Provisional figures say so and name what they stand in for.
        assert precision.provisional and "Vignoli" in precision.source, dimension.id


def test_every_text_is_in_english_and_polish(instrument):
    for where, text in all_texts(instrument):
        assert set(text.locales) >= {"en", "pl"}, where
        assert text.get("en") != text.get("pl") or where in {"problem title"}, where


def test_item_ids_are_readable_and_unique(instrument):
    ids = [item.id for item in instrument.items]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]{3,5}\d", item_id) for item_id in ids)


def test_pages_follow_the_areas_with_ten_to_thirteen_items(instrument):
    pages = instrument.pages()
    assert len(pages) == len(instrument.areas)
    for area, page in zip(instrument.areas, pages, strict=True):
        assert 10 <= len(page) <= 13
        assert {item.area_id for item in page} == {area.id}
        assert page == instrument.items_for_area(area.id)
    assert sum(pages, ()) == instrument.items


def test_attention_checks_sit_mid_page_on_two_different_pages(instrument):
    checks = instrument.attention_checks
    assert [check.id for check in checks] == ["check1", "check2"]
    assert len({check.area_id for check in checks}) == 2
    for check in checks:
        page = instrument.items_for_area(check.area_id)
        position = page.index(check)
        assert 0 < position < len(page) - 1
        assert check.dimension_id is None and not check.reverse


def test_attention_checks_name_their_expected_label_in_each_language(instrument):
    for check in instrument.attention_checks:
        expected = instrument.scale.label(check.attention_check_expected)
        for locale in ("en", "pl"):
            assert expected.get(locale) in check.text.get(locale), (check.id, locale)


def test_localised_text_falls_back_to_english():
    text = LocalisedText.of(en="Agree", pl="Zgadzam się")
    assert text.get("pl") == "Zgadzam się"
    assert text.get("pl-PL") == "Zgadzam się"
    assert text.get("pl_PL") == "Zgadzam się"
    assert text.get("de") == "Agree"
    assert text.get(None) == "Agree"
    assert str(text) == "Agree"


# Loading and validation -------------------------------------------------------------------------


def test_a_dimension_carries_its_bands_guidance_and_named_precision(minimal_definition):
    instrument = load_instrument_text(minimal_definition)
    alpha, beta = instrument.dimension("alpha"), instrument.dimension("beta")
    assert alpha.bands.text("high").get() == "Much alpha."
    assert (alpha.in_a_team.get(), alpha.overuse.get()) == ("Lead with alpha.", "Too much alpha.")
    assert (alpha.precision.reliability, alpha.precision.sd) == (0.70, 1.6)
    assert alpha.precision.provisional and alpha.precision.source == "A guess."
    assert not beta.precision.provisional and instrument.any_provisional
    assert (instrument.interpretation.low_up_to, instrument.interpretation.high_from) == (4, 7)


def test_a_reverse_item_may_name_its_contradicting_twin(minimal_definition):
    instrument = load_instrument_text(broken(
        minimal_definition,
        ('reverse = true\ntext = { en = "Alpha two." }',
         'reverse = true\ntwin = "a1"\ntext = { en = "Alpha two." }')))
    assert [(a.id, b.id) for a, b in instrument.twin_pairs] == [("a1", "a2")]


def test_minimal_definition_loads_with_pages_grouped_by_area(minimal_definition):
    instrument = load_instrument_text(minimal_definition)
    assert instrument.key == "mini@1"
    # b1 comes first in the file but belongs to the second area's page.
    assert [[item.id for item in page] for page in instrument.pages()] == [
        ["a1", "a2", "check"],
        ["b1", "b2"],
    ]
    assert instrument.item("check").attention_check_expected == 2
    assert instrument.item("b1").area_id == "second"


def broken(definition: str, *replacements: tuple[str, str]) -> str:
    """The definition with each (old, new) replacement made once; old must be present."""
    for old, new in replacements:
        assert old in definition, old
        definition = definition.replace(old, new, 1)
    return definition


INVALID_DEFINITIONS = [
    # (id, replacements, expected message after "mini.toml: ")
    ("syntax", [('id = "mini"', 'id = "mini')], "TOML syntax error"),
    ("missing-field", [('text = { en = "Alpha one." }\n', "")],
     "item 'a1' is missing the required field 'text'"),
    ("missing-version", [("version = 1\n", "")],
     "the instrument 'mini' is missing the required field 'version'"),
    ("duplicate-item", [('id = "a2"', 'id = "a1"')], "duplicate item id 'a1'"),
    ("duplicate-dimension", [('id = "beta"', 'id = "alpha"')], "duplicate dimension id 'alpha'"),
    ("duplicate-area", [('id = "second"', 'id = "first"')], "duplicate area id 'first'"),
    ("dimension-without-items",
     [('dimension = "beta"\ntext', 'dimension = "alpha"\ntext'),
      ('dimension = "beta"\nreverse', 'dimension = "alpha"\nreverse')],
     "dimension 'beta' has no scored items"),
    ("unknown-dimension", [('dimension = "beta"\ntext', 'dimension = "gamma"\ntext')],
     "item 'b1' names unknown dimension 'gamma'"),
    ("unknown-area", [('area = "second"', 'area = "third"')],
     "dimension 'beta' names unknown area 'third'"),
    ("one-point-scale", [("min = 1\nmax = 5", "min = 5\nmax = 5")],
     "scale needs at least 2 points (min < max), got min 5 and max 5"),
    ("min-above-max", [("min = 1\nmax = 5", "min = 7\nmax = 5")],
     "scale needs at least 2 points"),
    ("labels-count", [('{ en = "Yes" },', "")], "scale has 5 points (1..5) but 4 labels"),
    ("reverse-check", [("attention_check = 2", "attention_check = 2\nreverse = true")],
     "attention check 'check' must not be reverse-keyed"),
    ("check-outside-scale", [("attention_check = 2", "attention_check = 6")],
     "attention check 'check' expects answer 6, outside the scale 1..5"),
    ("check-unknown-area",
     [('area = "first"\nattention_check', 'area = "nowhere"\nattention_check')],
     "attention check 'check' names unknown area 'nowhere'"),
    ("no-reverse-item", [('dimension = "beta"\nreverse = true', 'dimension = "beta"')],
     "dimension 'beta' has no reverse-keyed item"),
    ("two-suggestions", [('{ en = "Do D." }, ', "")],
     "dimension 'beta' needs at least 3 suggestions, has 2"),
    ("no-english", [('title = { en = "Second" }', 'title = { pl = "Druga" }')],
     "area 'second' title has no English ('en') version"),
    ("empty-text", [('{ en = "Beta one." }', '{ en = " " }')],
     "item 'b1' text has an empty or non-text 'en' version"),
    ("version-zero", [("version = 1", "version = 0")],
     "version must be a positive integer, got 0"),
    ("version-string", [("version = 1", 'version = "1"')],
     "version must be a positive integer, got '1'"),
    ("version-bool", [("version = 1", "version = true")],
     "version must be a positive integer, got True"),
    ("misspelt-field", [("reverse = true", "revers = true")],
     "item 'a2' has unknown field(s): revers"),
    ("reverse-not-bool", [("reverse = true", 'reverse = "yes"')],
     "item 'a2' reverse must be true or false"),
    ("bad-id", [('id = "b2"', 'id = "b 2"')], "item id must be letters"),
    ("empty-area", [('area = "second"', 'area = "first"')], "area 'second' has no dimensions"),
    ("no-source", [('source = "A guess."', 'source = " "')],
     "dimension 'alpha' precision must name its source"),
    ("reliability-one", [("reliability = 0.70", "reliability = 1.0")],
     "dimension 'alpha' precision reliability must lie between 0 and 1, got 1.0"),
    ("sd-zero", [("sd = 1.2", "sd = 0")],
     "dimension 'beta' precision sd must be above 0"),
    ("provisional-text", [("provisional = true", 'provisional = "yes"')],
     "dimension 'alpha' precision provisional must be true or false"),
    ("missing-band", [('bands.high = { en = "Much beta." }\n', "")],
     "dimension 'beta' bands is missing the required field 'high'"),
    ("missing-overuse", [('overuse = { en = "Too much alpha." }\n', "")],
     "dimension 'alpha' is missing the required field 'overuse'"),
    ("bands-in-wrong-order", [("low_up_to = 4.0", "low_up_to = 8.0")],
     "interpretation needs 1 <= low_up_to < high_from <= 10"),
    ("confidence-percent", [("strength_confidence = 0.90", "strength_confidence = 90")],
     "interpretation strength_confidence must be from 0.5 to below 1"),
    ("twin-unknown", [("reverse = true\ntext = { en = \"Alpha two.\" }",
                       "reverse = true\ntwin = \"a9\"\ntext = { en = \"Alpha two.\" }")],
     "item 'a2' names unknown twin 'a9'"),
    ("twin-other-dimension", [("reverse = true\ntext = { en = \"Alpha two.\" }",
                               "reverse = true\ntwin = \"b1\"\ntext = { en = \"Alpha two.\" }")],
     "item 'a2' must be reverse-keyed and its twin 'b1' a plain item of the same dimension"),
    ("twin-on-a-check", [("attention_check = 2", "attention_check = 2\ntwin = \"a1\"")],
     "attention check 'check' must not have a twin"),
]


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [pytest.param(replacements, expected, id=case) for case, replacements, expected in
     INVALID_DEFINITIONS],
)
def test_invalid_definitions_are_rejected_naming_file_problem_and_id(
    minimal_definition, replacements, expected
):
    with pytest.raises(InstrumentError) as raised:
        load_instrument_text(broken(minimal_definition, *replacements), source="mini.toml")
    message = str(raised.value)
    assert message.startswith("mini.toml: ")
    assert expected in message


def test_load_instrument_names_a_missing_file(tmp_path):
    with pytest.raises(InstrumentError, match="nope.toml: cannot read"):
        load_instrument(tmp_path / "nope.toml")


def test_load_instrument_reports_the_path_of_a_broken_file(tmp_path, minimal_definition):
    path = tmp_path / "broken.toml"
    path.write_text(
        broken(minimal_definition, ("attention_check = 2", "attention_check = 9")),
        encoding="utf-8",
    )
    with pytest.raises(InstrumentError) as raised:
        load_instrument(path)
    assert str(raised.value).startswith(f"{path}: attention check 'check'")


def test_bundled_file_loads_by_path():
    instrument = load_instrument(BUNDLED_FOLDER / "design_mindset_v2.toml")
    assert instrument == current_instrument()
    assert load_instrument(BUNDLED_FOLDER / "design_mindset_v1.toml") == get_instrument(
        "design_mindset", 1)


# Finding instruments by id and version ----------------------------------------------------------


def test_an_institution_can_add_an_instrument_in_its_own_folder(tmp_path, minimal_definition):
    (tmp_path / "mini.toml").write_text(minimal_definition, encoding="utf-8")
    (tmp_path / "mini_v2.toml").write_text(
        broken(minimal_definition, ("version = 1", "version = 2")), encoding="utf-8"
    )
    instruments = available_instruments(tmp_path)
    assert set(instruments) == {"design_mindset@1", "design_mindset@2", "mini@1", "mini@2"}
    assert get_instrument("mini", 2, tmp_path).version == 2
    assert get_instrument("design_mindset", 2, tmp_path) is current_instrument()


def test_get_instrument_never_substitutes_another_version():
    with pytest.raises(UnknownInstrument, match="design_mindset@3"):
        get_instrument("design_mindset", 3)
    with pytest.raises(UnknownInstrument, match="available: design_mindset@1, design_mindset@2"):
        get_instrument("other", 1)


def test_a_folder_cannot_redefine_a_bundled_version(tmp_path):
    copy = (BUNDLED_FOLDER / "design_mindset_v1.toml").read_text(encoding="utf-8")
    (tmp_path / "local.toml").write_text(copy.replace("Strongly agree", "Totally"), "utf-8")
    with pytest.raises(InstrumentError, match="design_mindset@1 is already defined"):
        available_instruments(tmp_path)


def test_two_files_with_one_key_in_a_folder_are_rejected(tmp_path: Path, minimal_definition):
    (tmp_path / "a.toml").write_text(minimal_definition, encoding="utf-8")
    (tmp_path / "b.toml").write_text(minimal_definition, encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"b\.toml: instrument mini@1 is already defined"):
        available_instruments(tmp_path)


# Version 2 ---------------------------------------------------------------------------------------

V1 = get_instrument("design_mindset", 1)
V2 = get_instrument("design_mindset", 2)


def _text(instrument, item_id, locale="en"):
    return instrument.item(item_id).text.get(locale)


def test_version_2_rewrites_the_weak_items_and_keeps_the_rest():
    rewritten = {"abd1", "col2", "lrn1", "col3", "amb4", "exp3", "hol4"}
    for item in V1.items:
        same = _text(V1, item.id) == _text(V2, item.id)
        assert same is (item.id not in rewritten), item.id
        assert V2.item(item.id).reverse is item.reverse
        assert V2.item(item.id).dimension_id == item.dimension_id
    # One idea per statement: no "and then", "instead of", "or" joining two behaviours.
    assert " and then " not in _text(V2, "abd1") and "instead of" not in _text(V2, "col2")
    assert " or " not in _text(V2, "lrn1")
    # The Polish que2 says what the English says, and no more.
    assert _text(V2, "que2", "pl") == (
        "Zanim zacznę zadanie, kwestionuję założenia, które za nim stoją.")
    assert " i " not in _text(V2, "que2", "pl")
    assert _text(V2, "que2") == _text(V1, "que2")
    # The near-duplicates across dimensions are apart.
    assert _text(V2, "hol4") != _text(V1, "hol4")
    assert not {"ideas", "fields"} & set(_text(V2, "hol4").split())
    # The interpretation of a score is the same: bands, guidance, precision.
    assert V2.dimensions == V1.dimensions and V2.scale == V1.scale
    assert V2.interpretation == V1.interpretation


def test_version_2_pairs_rewritten_reverse_items_with_the_plain_item_they_oppose():
    pairs = {reverse.id: plain.id for plain, reverse in V2.twin_pairs}
    assert pairs["col3"] == "col1" and pairs["amb4"] == "amb1" and pairs["exp3"] == "exp1"
    assert len(pairs) == 10
    # One pair in every dimension, each pair within one page.
    assert {V2.item(item).dimension_id for item in pairs} == {d.id for d in V2.dimensions}
    assert V1.twin_pairs == ()


def test_the_versions_share_every_dimension_and_say_where_items_changed():
    shared = {entry.dimension_id: entry.items_changed for entry in shared_dimensions(V1, V2)}
    assert list(shared) == [dimension.id for dimension in V2.dimensions]
    assert {key for key, changed in shared.items() if changed} == {
        "abductive", "collaboration", "learning", "ambiguity", "experimentation", "holistic",
        "questioning",  # the Polish que2 only: a Polish learner read another statement
    }
    assert not any(entry.items_changed for entry in shared_dimensions(V1, V1))


def test_a_dimension_only_one_version_has_is_not_shared(minimal_definition):
    mini = load_instrument_text(minimal_definition)
    assert shared_dimensions(V1, mini) == ()
