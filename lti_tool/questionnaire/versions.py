"""Which instrument versions exist, which one new attempts use, and what two versions share.

An attempt is only ever scored, described and compared with the version recorded on it
(`get_instrument`); `current_instrument` is for starting new attempts and nothing else.
Two attempts answered with different versions are compared per dimension, over the
dimensions both versions measure (`shared_dimensions`), saying where the items changed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from lti_tool.questionnaire.definition import load_instrument
from lti_tool.questionnaire.instrument import (
    Instrument,
    InstrumentError,
    Item,
    UnknownInstrument,
    instrument_key,
)

BUNDLED_FOLDER = Path(__file__).resolve().parent / "instruments"
CURRENT_INSTRUMENT_ID = "design_mindset"
CURRENT_INSTRUMENT_VERSION = 2


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
    # BUNDLED_FOLDER is resolved once: resolving a path asks the file system about every
    # part of it, and pages look instruments up several times per request.
    found = dict(_instruments_in(BUNDLED_FOLDER))
    if folder is None or Path(folder).resolve() == BUNDLED_FOLDER:
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


def current_instrument() -> Instrument:
    """The version new attempts are started with; never use it to read an existing attempt."""
    return get_instrument(CURRENT_INSTRUMENT_ID, CURRENT_INSTRUMENT_VERSION)


@dataclass(frozen=True)
class SharedDimension:
    """A dimension two versions both measure, and whether its items differ between them."""

    dimension_id: str
    #: True when the statements (in any language), their keying or the answer scale differ:
    #: a change between the two scores may then come from the items as well as the person.
    items_changed: bool


def _item_signature(item: Item) -> tuple:
    return (tuple(sorted(item.text.translations)), item.reverse)


def items_changed(earlier: Instrument, later: Instrument, dimension_id: str) -> bool:
    """Whether the dimension is measured with other items (or on another scale) in `later`.

    Items are compared by what a respondent sees and how it is scored (wording in every
    language, reverse keying), not by id, and regardless of their order.
    """
    if (earlier.scale.min, earlier.scale.max) != (later.scale.min, later.scale.max):
        return True
    before = sorted(map(_item_signature, earlier.items_for_dimension(dimension_id)))
    after = sorted(map(_item_signature, later.items_for_dimension(dimension_id)))
    return before != after


def shared_dimensions(earlier: Instrument, later: Instrument) -> tuple[SharedDimension, ...]:
    """The dimensions both versions measure, in `later`'s order, each with `items_changed`.

    A dimension only one version has is left out: its scores cannot be compared.
    """
    known = {dimension.id for dimension in earlier.dimensions}
    return tuple(
        SharedDimension(dimension.id, items_changed(earlier, later, dimension.id))
        for dimension in later.dimensions if dimension.id in known
    )
