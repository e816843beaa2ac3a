"""Which instrument versions exist, and which one new attempts use.

An attempt is only ever scored, described and compared with the version recorded on it
(`get_instrument`); `current_instrument` is for starting new attempts and nothing else.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lti_tool.questionnaire.definition import load_instrument
from lti_tool.questionnaire.instrument import (
    Instrument,
    InstrumentError,
    UnknownInstrument,
    instrument_key,
)

BUNDLED_FOLDER = Path(__file__).parent / "instruments"
CURRENT_INSTRUMENT_ID = "design_mindset"
CURRENT_INSTRUMENT_VERSION = 1


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


def current_instrument() -> Instrument:
    """The version new attempts are started with; never use it to read an existing attempt."""
    return get_instrument(CURRENT_INSTRUMENT_ID, CURRENT_INSTRUMENT_VERSION)
