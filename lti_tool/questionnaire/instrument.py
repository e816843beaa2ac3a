"""A questionnaire instrument as frozen dataclasses: scale, areas, dimensions, items, and what
a score on each dimension means (bands, guidance, provisional precision).

definition.py reads and validates the TOML files; versions.py knows which versions exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

FALLBACK_LOCALE = "en"


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
        by_locale = self._by_locale
        if locale:
            wanted = locale.replace("_", "-").lower()
            for candidate in (wanted, wanted.split("-")[0]):
                if candidate in by_locale:
                    return by_locale[candidate]
        return by_locale[FALLBACK_LOCALE]

    def __str__(self) -> str:
        return self.get()

    @cached_property
    def _by_locale(self) -> dict[str, str]:
        # Read for every text on every page: the pairs are looked up once.
        return dict(self.translations)


@dataclass(frozen=True)
class Scale:
    """The answer scale: whole numbers from `min` to `max`, one label per point."""

    min: int
    max: int
    labels: tuple[LocalisedText, ...]

    @cached_property
    def points(self) -> range:
        """Every allowed answer, lowest first (asked for each answer that is checked)."""
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
class Precision:
    """How reliably a dimension is measured before the tool's own responses can tell.

    `reliability` (Cronbach's alpha) and `sd` (the standard deviation of 1..10 scores in a
    reference group) give the standard error of measurement; `source` says where they come
    from. Provisional values give way to the installation's own once it has enough responses.
    """

    reliability: float
    sd: float
    provisional: bool
    source: str


@dataclass(frozen=True)
class Bands:
    """What a low, a moderate and a high score on one dimension look like in behaviour."""

    low: LocalisedText
    moderate: LocalisedText
    high: LocalisedText

    def text(self, level: str) -> LocalisedText:
        """The description of one band ("low", "moderate" or "high")."""
        return {"low": self.low, "moderate": self.moderate, "high": self.high}[level]


@dataclass(frozen=True)
class Dimension:
    """One predisposition that the instrument measures, with what it means and how to grow it."""

    id: str
    area_id: str
    name: LocalisedText
    description: LocalisedText
    #: What it looks like as a strength.
    strength: LocalisedText
    #: How to use it as a strength in a team, and the risk of over-using it.
    in_a_team: LocalisedText
    overuse: LocalisedText
    #: Concrete ways to develop it.
    suggestions: tuple[LocalisedText, ...]
    bands: Bands
    precision: Precision
    #: Questions a mentor may ask about this dimension when the session talks it over.
    debrief: tuple[LocalisedText, ...] = ()


@dataclass(frozen=True)
class Interpretation:
    """The instrument's rules for reading scores: band limits and the strength confidence."""

    #: A score up to this is "low"; from `high_from` it is "high"; between, "moderate".
    low_up_to: float
    high_from: float
    #: Confidence for calling a dimension a strength or an area (0.90: z = 1.645).
    strength_confidence: float


@dataclass(frozen=True)
class Item:
    """One statement; scored for a dimension, or an attention check that expects one answer."""

    id: str
    area_id: str
    dimension_id: str | None
    text: LocalisedText
    reverse: bool = False
    attention_check_expected: int | None = None
    #: For a reverse-keyed item: the item it contradicts (agreeing with both is inconsistent).
    twin_id: str | None = None

    @property
    def is_attention_check(self) -> bool:
        """Whether this item checks attention instead of measuring a dimension."""
        return self.dimension_id is None


@dataclass(frozen=True)
class Instrument:
    """A validated questionnaire definition; `items` are in presentation order, page by page.

    The item groupings (scored items, a dimension's items ...) are worked out once per
    instance: scoring a cohort asks for them once per response, tens of thousands of times.
    The dataclass is frozen, but cached_property writes to the instance's __dict__ directly.
    """

    id: str
    version: int
    title: LocalisedText
    intro: LocalisedText
    scale: Scale
    areas: tuple[Area, ...]
    dimensions: tuple[Dimension, ...]
    items: tuple[Item, ...]
    interpretation: Interpretation
    #: Where the definition came from, for error messages; not part of its identity.
    source: str = field(default="<string>", compare=False)

    @property
    def key(self) -> str:
        """The id and version in one string, e.g. "design_mindset@1"."""
        return instrument_key(self.id, self.version)

    @cached_property
    def scored_items(self) -> tuple[Item, ...]:
        """The items that count towards a dimension, in presentation order."""
        return tuple(item for item in self.items if not item.is_attention_check)

    @cached_property
    def item_ids(self) -> frozenset[str]:
        """Every item's id (attention checks included)."""
        return frozenset(item.id for item in self.items)

    @cached_property
    def attention_checks(self) -> tuple[Item, ...]:
        """The items that only check whether the respondent reads the statements."""
        return tuple(item for item in self.items if item.is_attention_check)

    @cached_property
    def twin_pairs(self) -> tuple[tuple[Item, Item], ...]:
        """(item, reverse-keyed twin) pairs checked for contradictory answers, in item order."""
        return tuple((self.item(item.twin_id), item) for item in self.items if item.twin_id)

    @property
    def any_provisional(self) -> bool:
        """Whether any dimension's precision is a provisional value from the definition."""
        return any(dimension.precision.provisional for dimension in self.dimensions)

    def area(self, area_id: str) -> Area:
        """The area with this id; KeyError if there is none."""
        return _find(self.areas, area_id, "area")

    def dimension(self, dimension_id: str) -> Dimension:
        """The dimension with this id; KeyError if there is none."""
        try:
            return self._dimensions_by_id[dimension_id]
        except KeyError:
            raise KeyError(f"no dimension {dimension_id!r}") from None

    def item(self, item_id: str) -> Item:
        """The item with this id; KeyError if there is none."""
        return _find(self.items, item_id, "item")

    def dimensions_for_area(self, area_id: str) -> tuple[Dimension, ...]:
        """The dimensions of one area, in instrument order."""
        return self._dimensions_by_area.get(area_id, ())

    def items_for_dimension(self, dimension_id: str) -> tuple[Item, ...]:
        """The scored items of one dimension, in presentation order."""
        return self._items_by_dimension.get(dimension_id, ())

    def items_for_area(self, area_id: str) -> tuple[Item, ...]:
        """The items shown on one area's page, attention checks included, in order."""
        return self._items_by_area.get(area_id, ())

    @cached_property
    def _dimensions_by_id(self) -> dict[str, Dimension]:
        # A cohort page names the strengths of 50 learners by their dimensions' ids.
        return {dimension.id: dimension for dimension in self.dimensions}

    @cached_property
    def _dimensions_by_area(self) -> dict[str, tuple[Dimension, ...]]:
        return _grouped(self.dimensions, lambda dimension: dimension.area_id)

    @cached_property
    def _items_by_dimension(self) -> dict[str | None, tuple[Item, ...]]:
        return _grouped(self.items, lambda item: item.dimension_id)

    @cached_property
    def _items_by_area(self) -> dict[str, tuple[Item, ...]]:
        return _grouped(self.items, lambda item: item.area_id)

    def pages(self) -> tuple[tuple[Item, ...], ...]:
        """One tuple of items per area, in the order of the areas."""
        return tuple(self.items_for_area(area.id) for area in self.areas)


def _grouped(entries, key):
    groups: dict = {}
    for entry in entries:
        groups.setdefault(key(entry), []).append(entry)
    return {group: tuple(members) for group, members in groups.items()}


def _find(entries, wanted_id, kind):
    for entry in entries:
        if entry.id == wanted_id:
            return entry
    raise KeyError(f"no {kind} {wanted_id!r}")
