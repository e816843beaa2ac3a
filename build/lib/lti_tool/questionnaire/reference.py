"""The precision in force for an instrument version.

Until the installation has MIN_REFERENCE_GROUP complete, unflagged responses to a version,
its precision is the provisional one written in the instrument file.
"""

from __future__ import annotations

from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.interpretation import Precision, provisional_precision


def precision_for(instrument: Instrument) -> Precision:
    """Each dimension's reliability, SD and SEM for this version, with where they come from."""
    return provisional_precision(instrument)
