"""Read and validate an instrument definition (TOML) into the dataclasses of instrument.py.

Every problem names the file, what is wrong and the id of the offending entry, so a
maintainer can fix a definition from the message alone.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

from lti_tool.questionnaire.instrument import (
    FALLBACK_LOCALE,
    Area,
    Bands,
    Dimension,
    Instrument,
    InstrumentError,
    Interpretation,
    Item,
    LocalisedText,
    Precision,
    Scale,
)

MIN_SUGGESTIONS = 3
LEVELS = ("low", "moderate", "high")

# Ids end up in URLs, form field names and the "id@version" key, so keep them plain.
_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def load_instrument(path: str | Path) -> Instrument:
    """Read and validate an instrument definition from a TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InstrumentError(f"{path}: cannot read the instrument file: {error}") from error
    return load_instrument_text(text, source=str(path))


def load_instrument_text(text: str, source: str = "<string>") -> Instrument:
    """Parse and validate an instrument definition given as TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InstrumentError(f"{source}: TOML syntax error: {error}") from error
    return _Builder(source).instrument(data)


class _Builder:
    """Turns parsed TOML into an Instrument, failing with the source and the offending id."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, problem: str) -> NoReturn:
        raise InstrumentError(f"{self.source}: {problem}")

    def instrument(self, data: dict[str, Any]) -> Instrument:
        self.fields(
            data, "the instrument",
            required=("id", "version", "title", "intro", "scale", "interpretation", "areas",
                      "dimensions", "items"),
        )
        instrument_id = self.identifier(data["id"], "the instrument id")
        version = data["version"]
        # bool is a subclass of int, and `version = true` is certainly a mistake.
        if type(version) is not int or version < 1:
            self.fail(f"version must be a positive integer, got {version!r}")
        scale = self.scale(self.table(data["scale"], "scale"))
        interpretation = self.interpretation(data["interpretation"])
        areas = tuple(self.area(entry) for entry in self.entries(data, "areas"))
        self.unique(areas, "area")
        dimensions = tuple(self.dimension(entry) for entry in self.entries(data, "dimensions"))
        self.unique(dimensions, "dimension")
        self.check_dimensions(areas, dimensions)
        area_of = {dimension.id: dimension.area_id for dimension in dimensions}
        items = tuple(self.item(entry, scale, area_of) for entry in self.entries(data, "items"))
        self.unique(items, "item")
        self.check_items(areas, dimensions, items)
        self.check_twins(items)
        area_order = {area.id: position for position, area in enumerate(areas)}
        return Instrument(
            id=instrument_id,
            version=version,
            title=self.text(data["title"], "the instrument title"),
            intro=self.text(data["intro"], "the instrument intro"),
            scale=scale,
            areas=areas,
            dimensions=dimensions,
            # Page by page; sorted() is stable, so the file order holds within a page.
            items=tuple(sorted(items, key=lambda item: area_order[item.area_id])),
            interpretation=interpretation,
            source=self.source,
        )

    def interpretation(self, data: Any) -> Interpretation:
        self.fields(data, "interpretation",
                    required=("low_up_to", "high_from", "strength_confidence"))
        low_up_to = self.number(data["low_up_to"], "interpretation low_up_to")
        high_from = self.number(data["high_from"], "interpretation high_from")
        if not 1 <= low_up_to < high_from <= 10:
            self.fail(f"interpretation needs 1 <= low_up_to < high_from <= 10, got {low_up_to} "
                      f"and {high_from}")
        confidence = self.number(data["strength_confidence"], "interpretation strength_confidence")
        if not 0.5 <= confidence < 1:
            self.fail(f"interpretation strength_confidence must be from 0.5 to below 1, "
                      f"got {confidence}")
        return Interpretation(low_up_to, high_from, confidence)

    def scale(self, data: dict[str, Any]) -> Scale:
        self.fields(data, "the scale", required=("min", "max", "labels"))
        low, high = data["min"], data["max"]
        if type(low) is not int or type(high) is not int:
            self.fail(f"scale min and max must be integers, got {low!r} and {high!r}")
        if low >= high:
            self.fail(f"scale needs at least 2 points (min < max), got min {low} and max {high}")
        labels = data["labels"]
        if not isinstance(labels, list):
            self.fail("scale labels must be a list of texts")
        if len(labels) != high - low + 1:
            self.fail(
                f"scale has {high - low + 1} points ({low}..{high}) but {len(labels)} labels"
            )
        return Scale(
            min=low,
            max=high,
            labels=tuple(
                self.text(label, f"scale label {low + offset}")
                for offset, label in enumerate(labels)
            ),
        )

    def area(self, data: dict[str, Any]) -> Area:
        where = self.fields(data, "area", required=("id", "title", "description"))
        return Area(
            id=data["id"],
            title=self.text(data["title"], f"{where} title"),
            description=self.text(data["description"], f"{where} description"),
        )

    def dimension(self, data: dict[str, Any]) -> Dimension:
        where = self.fields(
            data, "dimension",
            required=("id", "area", "name", "description", "strength", "in_a_team", "overuse",
                      "suggestions", "bands", "precision"),
            optional=("debrief",),
        )
        debrief = data.get("debrief", [])
        if not isinstance(debrief, list):
            self.fail(f"{where} debrief must be a list of texts")
        suggestions = data["suggestions"]
        if not isinstance(suggestions, list) or len(suggestions) < MIN_SUGGESTIONS:
            count = len(suggestions) if isinstance(suggestions, list) else 0
            self.fail(f"{where} needs at least {MIN_SUGGESTIONS} suggestions, has {count}")
        bands = self.table(data["bands"], f"{where} bands")
        self.fields(bands, f"{where} bands", required=LEVELS)
        return Dimension(
            id=data["id"],
            area_id=self.identifier(data["area"], f"{where} area"),
            name=self.text(data["name"], f"{where} name"),
            description=self.text(data["description"], f"{where} description"),
            strength=self.text(data["strength"], f"{where} strength"),
            in_a_team=self.text(data["in_a_team"], f"{where} in_a_team"),
            overuse=self.text(data["overuse"], f"{where} overuse"),
            suggestions=tuple(
                self.text(text, f"{where} suggestion {number}")
                for number, text in enumerate(suggestions, start=1)
            ),
            bands=Bands(*(self.text(bands[level], f"{where} {level} band") for level in LEVELS)),
            precision=self.precision(data["precision"], f"{where} precision"),
            debrief=tuple(
                self.text(text, f"{where} debrief question {number}")
                for number, text in enumerate(debrief, start=1)
            ),
        )

    def precision(self, data: Any, where: str) -> Precision:
        self.fields(data, where, required=("reliability", "sd", "provisional", "source"))
        reliability = self.number(data["reliability"], f"{where} reliability")
        if not 0 < reliability < 1:
            self.fail(f"{where} reliability must lie between 0 and 1, got {reliability}")
        sd = self.number(data["sd"], f"{where} sd")
        if not 0 < sd <= 9:
            self.fail(f"{where} sd must be above 0 and at most 9 (the 1..10 range), got {sd}")
        if not isinstance(data["provisional"], bool):
            self.fail(f"{where} provisional must be true or false")
        source = data["source"]
        # A number a learner sees is a claim: it says where it comes from.
        if not isinstance(source, str) or not source.strip():
            self.fail(f"{where} must name its source")
        return Precision(reliability, sd, data["provisional"], " ".join(source.split()))

    def item(self, data: dict[str, Any], scale: Scale, area_of: dict[str, str]) -> Item:
        if "attention_check" in data:
            return self.attention_check(data, scale)
        where = self.fields(
            data, "item", required=("id", "dimension", "text"), optional=("reverse", "twin")
        )
        reverse = data.get("reverse", False)
        if not isinstance(reverse, bool):
            self.fail(f"{where} reverse must be true or false, got {reverse!r}")
        dimension_id = self.identifier(data["dimension"], f"{where} dimension")
        if dimension_id not in area_of:
            self.fail(f"{where} names unknown dimension {dimension_id!r}")
        return Item(
            id=data["id"],
            area_id=area_of[dimension_id],
            dimension_id=dimension_id,
            text=self.text(data["text"], f"{where} text"),
            reverse=reverse,
            twin_id=self.identifier(data["twin"], f"{where} twin") if "twin" in data else None,
        )

    def attention_check(self, data: dict[str, Any], scale: Scale) -> Item:
        where = self.fields(
            data, "attention check",
            required=("id", "area", "attention_check", "text"),
            optional=("reverse", "dimension", "twin"),
        )
        if "dimension" in data:
            self.fail(f"{where} must not belong to a dimension")
        if "twin" in data:
            self.fail(f"{where} must not have a twin (it measures no trait)")
        if "reverse" in data:
            self.fail(f"{where} must not be reverse-keyed (its expected answer is literal)")
        expected = data["attention_check"]
        if type(expected) is not int or expected not in scale.points:
            self.fail(
                f"{where} expects answer {expected!r}, outside the scale {scale.min}..{scale.max}"
            )
        return Item(
            id=data["id"],
            area_id=self.identifier(data["area"], f"{where} area"),
            dimension_id=None,
            text=self.text(data["text"], f"{where} text"),
            attention_check_expected=expected,
        )

    def check_dimensions(self, areas, dimensions) -> None:
        area_ids = {area.id for area in areas}
        for dimension in dimensions:
            if dimension.area_id not in area_ids:
                self.fail(f"dimension {dimension.id!r} names unknown area {dimension.area_id!r}")
        for area in areas:
            if not any(dimension.area_id == area.id for dimension in dimensions):
                self.fail(f"area {area.id!r} has no dimensions")

    def check_items(self, areas, dimensions, items) -> None:
        area_ids = {area.id for area in areas}
        for check in (item for item in items if item.is_attention_check):
            if check.area_id not in area_ids:
                self.fail(f"attention check {check.id!r} names unknown area {check.area_id!r}")
        for dimension in dimensions:
            own = [item for item in items if item.dimension_id == dimension.id]
            if not own:
                self.fail(f"dimension {dimension.id!r} has no scored items")
            # Without a reverse-keyed item, agreeing with everything looks like a high score.
            if not any(item.reverse for item in own):
                self.fail(f"dimension {dimension.id!r} has no reverse-keyed item")

    def check_twins(self, items) -> None:
        by_id = {item.id: item for item in items}
        taken: set[str] = set()
        for item in items:
            if item.twin_id is None:
                continue
            twin = by_id.get(item.twin_id)
            if twin is None:
                self.fail(f"item {item.id!r} names unknown twin {item.twin_id!r}")
            # A twin says the opposite about the same trait: same dimension, other keying.
            if not item.reverse or twin.reverse or twin.dimension_id != item.dimension_id:
                self.fail(f"item {item.id!r} must be reverse-keyed and its twin {twin.id!r} "
                          f"a plain item of the same dimension")
            if twin.id in taken or item.id in taken:
                self.fail(f"item {twin.id!r} or {item.id!r} is already in a twin pair")
            taken.update((twin.id, item.id))

    def number(self, value, what) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{what} must be a number, got {value!r}")
        return float(value)

    def fields(self, data, kind, required, optional=()) -> str:
        """Check a table's field names; return how to name it in messages, e.g. "item 'emp3'"."""
        data = self.table(data, kind)
        where = kind
        if "id" in required and "id" in data:
            where = f"{kind} {self.identifier(data['id'], f'{kind} id')!r}"
        for name in required:
            if name not in data:
                self.fail(f"{where} is missing the required field {name!r}")
        # A misspelt optional field (`revers = true`) would otherwise be silently ignored.
        unknown = sorted(set(data) - set(required) - set(optional))
        if unknown:
            self.fail(f"{where} has unknown field(s): {', '.join(unknown)}")
        return where

    def table(self, value, what) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(f"{what} must be a table, got {type(value).__name__}")
        return value

    def entries(self, data, name) -> list[dict[str, Any]]:
        value = data[name]
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            self.fail(f"{name} must be an array of tables ([[{name}]])")
        if not value:
            self.fail(f"{name} must not be empty")
        return value

    def identifier(self, value, what) -> str:
        if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
            self.fail(
                f"{what} must be letters, digits, '_' or '-', starting with a letter; "
                f"got {value!r}"
            )
        return value

    def text(self, value, what) -> LocalisedText:
        if not isinstance(value, dict):
            self.fail(f"{what} must be a table of translations, e.g. {{ en = \"...\" }}")
        for locale, text in value.items():
            if not isinstance(text, str) or not text.strip():
                self.fail(f"{what} has an empty or non-text {locale!r} version")
        translations = tuple((locale.lower(), text.strip()) for locale, text in value.items())
        if FALLBACK_LOCALE not in dict(translations):
            self.fail(f"{what} has no English ({FALLBACK_LOCALE!r}) version")
        return LocalisedText(translations)

    def unique(self, entries, kind) -> None:
        duplicates = [key for key, count in Counter(e.id for e in entries).items() if count > 1]
        if duplicates:
            self.fail(f"duplicate {kind} id {duplicates[0]!r}")
