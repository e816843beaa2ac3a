"""Load and validate questionnaire instruments: versioned TOML definitions as frozen dataclasses."""

from __future__ import annotations

import functools
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

BUNDLED_FOLDER = Path(__file__).parent / "instruments"
DEFAULT_INSTRUMENT_ID = "design_mindset"
DEFAULT_INSTRUMENT_VERSION = 1
FALLBACK_LOCALE = "en"
MIN_SUGGESTIONS = 3

# Ids end up in URLs, form field names and the "id@version" key, so keep them plain.
_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class InstrumentError(ValueError):
    """An instrument definition is malformed; the message names the file, the problem and the id."""


class UnknownInstrument(LookupError):
    """No instrument with the requested id and version is available."""


def instrument_key(instrument_id: str, version: int) -> str:
    """The key that names one version of an instrument, e.g. "design_mindset@1"."""
    return f"{instrument_id}@{version}"


@dataclass(frozen=True)
class LocalisedText:
    """One user-facing text in several languages; English is always present."""

    translations: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, **by_locale: str) -> LocalisedText:
        """Build a text from keyword arguments, e.g. LocalisedText.of(en="Yes", pl="Tak")."""
        return cls(tuple((locale.lower(), text) for locale, text in by_locale.items()))

    @property
    def locales(self) -> tuple[str, ...]:
        """The locales this text is written in."""
        return tuple(locale for locale, _ in self.translations)

    def get(self, locale: str | None = None) -> str:
        """The text in `locale` ("pl", "pl-PL" or "pl_PL"), falling back to English."""
        by_locale = dict(self.translations)
        if locale:
            wanted = locale.replace("_", "-").lower()
            for candidate in (wanted, wanted.split("-")[0]):
                if candidate in by_locale:
                    return by_locale[candidate]
        return by_locale[FALLBACK_LOCALE]

    def __str__(self) -> str:
        return self.get()


@dataclass(frozen=True)
class Scale:
    """The answer scale: whole numbers from `min` to `max`, one label per point."""

    min: int
    max: int
    labels: tuple[LocalisedText, ...]

    @property
    def points(self) -> range:
        """Every allowed answer, lowest first."""
        return range(self.min, self.max + 1)

    def label(self, value: int) -> LocalisedText:
        """The label of one point of the scale."""
        return self.labels[value - self.min]


@dataclass(frozen=True)
class Area:
    """A group of related dimensions; the questionnaire shows one page per area."""

    id: str
    title: LocalisedText
    description: LocalisedText


@dataclass(frozen=True)
class Dimension:
    """One predisposition that the instrument measures, with what it means and how to grow it."""

    id: str
    area_id: str
    name: LocalisedText
    description: LocalisedText
    strength: LocalisedText
    suggestions: tuple[LocalisedText, ...]


@dataclass(frozen=True)
class Item:
    """One statement; scored for a dimension, or an attention check that expects one answer."""

    id: str
    area_id: str
    dimension_id: str | None
    text: LocalisedText
    reverse: bool = False
    attention_check_expected: int | None = None

    @property
    def is_attention_check(self) -> bool:
        """Whether this item checks attention instead of measuring a dimension."""
        return self.dimension_id is None


@dataclass(frozen=True)
class Instrument:
    """A validated questionnaire definition; `items` are in presentation order, page by page."""

    id: str
    version: int
    title: LocalisedText
    intro: LocalisedText
    scale: Scale
    areas: tuple[Area, ...]
    dimensions: tuple[Dimension, ...]
    items: tuple[Item, ...]
    #: Where the definition came from, for error messages; not part of its identity.
    source: str = field(default="<string>", compare=False)

    @property
    def key(self) -> str:
        """The id and version in one string, e.g. "design_mindset@1"."""
        return instrument_key(self.id, self.version)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        """The items that count towards a dimension, in presentation order."""
        return tuple(item for item in self.items if not item.is_attention_check)

    @property
    def attention_checks(self) -> tuple[Item, ...]:
        """The items that only check whether the respondent reads the statements."""
        return tuple(item for item in self.items if item.is_attention_check)

    def area(self, area_id: str) -> Area:
        """The area with this id; KeyError if there is none."""
        return _find(self.areas, area_id, "area")

    def dimension(self, dimension_id: str) -> Dimension:
        """The dimension with this id; KeyError if there is none."""
        return _find(self.dimensions, dimension_id, "dimension")

    def item(self, item_id: str) -> Item:
        """The item with this id; KeyError if there is none."""
        return _find(self.items, item_id, "item")

    def dimensions_for_area(self, area_id: str) -> tuple[Dimension, ...]:
        """The dimensions of one area, in instrument order."""
        return tuple(dimension for dimension in self.dimensions if dimension.area_id == area_id)

    def items_for_dimension(self, dimension_id: str) -> tuple[Item, ...]:
        """The scored items of one dimension, in presentation order."""
        return tuple(item for item in self.items if item.dimension_id == dimension_id)

    def items_for_area(self, area_id: str) -> tuple[Item, ...]:
        """The items shown on one area's page, attention checks included, in order."""
        return tuple(item for item in self.items if item.area_id == area_id)

    def pages(self) -> tuple[tuple[Item, ...], ...]:
        """One tuple of items per area, in the order of the areas."""
        return tuple(self.items_for_area(area.id) for area in self.areas)


def _find(entries, wanted_id, kind):
    for entry in entries:
        if entry.id == wanted_id:
            return entry
    raise KeyError(f"no {kind} {wanted_id!r}")


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


@functools.cache
def _instruments_in(folder: Path) -> dict[str, Instrument]:
    # Published versions are immutable, so each folder is read once per process.
    found: dict[str, Instrument] = {}
    for path in sorted(folder.glob("*.toml")):
        instrument = load_instrument(path)
        if instrument.key in found:
            raise InstrumentError(
                f"{path}: instrument {instrument.key} is already defined in "
                f"{found[instrument.key].source}"
            )
        found[instrument.key] = instrument
    return found


def available_instruments(folder: str | Path | None = None) -> dict[str, Instrument]:
    """The bundled instruments plus those in `folder`, by key ("design_mindset@1")."""
    found = dict(_instruments_in(BUNDLED_FOLDER.resolve()))
    if folder is None or Path(folder).resolve() == BUNDLED_FOLDER.resolve():
        return found
    for key, instrument in _instruments_in(Path(folder).resolve()).items():
        if key in found:
            # Another definition under a bundled key would silently rescore stored answers.
            raise InstrumentError(
                f"{instrument.source}: instrument {key} is already defined in "
                f"{found[key].source}; publish changes under a new version"
            )
        found[key] = instrument
    return found


def get_instrument(
    instrument_id: str, version: int, folder: str | Path | None = None
) -> Instrument:
    """Exactly the version asked for (e.g. the one recorded on an attempt), or UnknownInstrument."""
    key = instrument_key(instrument_id, version)
    instruments = available_instruments(folder)
    try:
        return instruments[key]
    except KeyError:
        known = ", ".join(sorted(instruments)) or "none"
        raise UnknownInstrument(f"no instrument {key} (available: {known})") from None


def default_instrument() -> Instrument:
    """The bundled Design Mindset instrument, version 1."""
    return get_instrument(DEFAULT_INSTRUMENT_ID, DEFAULT_INSTRUMENT_VERSION)


class _Builder:
    """Turns parsed TOML into an Instrument, failing with the source and the offending id."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, problem: str) -> NoReturn:
        raise InstrumentError(f"{self.source}: {problem}")

    def instrument(self, data: dict[str, Any]) -> Instrument:
        self.fields(
            data, "the instrument",
            required=("id", "version", "title", "intro", "scale", "areas", "dimensions", "items"),
        )
        instrument_id = self.identifier(data["id"], "the instrument id")
        version = data["version"]
        # bool is a subclass of int, and `version = true` is certainly a mistake.
        if type(version) is not int or version < 1:
            self.fail(f"version must be a positive integer, got {version!r}")
        scale = self.scale(self.table(data["scale"], "scale"))
        areas = tuple(self.area(entry) for entry in self.entries(data, "areas"))
        self.unique(areas, "area")
        dimensions = tuple(self.dimension(entry) for entry in self.entries(data, "dimensions"))
        self.unique(dimensions, "dimension")
        self.check_dimensions(areas, dimensions)
        area_of = {dimension.id: dimension.area_id for dimension in dimensions}
        items = tuple(self.item(entry, scale, area_of) for entry in self.entries(data, "items"))
        self.unique(items, "item")
        self.check_items(areas, dimensions, items)
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
            source=self.source,
        )

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
            required=("id", "area", "name", "description", "strength", "suggestions"),
        )
        suggestions = data["suggestions"]
        if not isinstance(suggestions, list) or len(suggestions) < MIN_SUGGESTIONS:
            count = len(suggestions) if isinstance(suggestions, list) else 0
            self.fail(f"{where} needs at least {MIN_SUGGESTIONS} suggestions, has {count}")
        return Dimension(
            id=data["id"],
            area_id=self.identifier(data["area"], f"{where} area"),
            name=self.text(data["name"], f"{where} name"),
            description=self.text(data["description"], f"{where} description"),
            strength=self.text(data["strength"], f"{where} strength"),
            suggestions=tuple(
                self.text(text, f"{where} suggestion {number}")
                for number, text in enumerate(suggestions, start=1)
            ),
        )

    def item(self, data: dict[str, Any], scale: Scale, area_of: dict[str, str]) -> Item:
        if "attention_check" in data:
            return self.attention_check(data, scale)
        where = self.fields(
            data, "item", required=("id", "dimension", "text"), optional=("reverse",)
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
        )

    def attention_check(self, data: dict[str, Any], scale: Scale) -> Item:
        where = self.fields(
            data, "attention check",
            required=("id", "area", "attention_check", "text"),
            optional=("reverse", "dimension"),
        )
        if "dimension" in data:
            self.fail(f"{where} must not belong to a dimension")
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
