"""Questionnaire fixtures: the bundled instrument, an answer factory, a small definition."""

from __future__ import annotations

import pytest

from lti_tool.questionnaire.instrument import Instrument
from lti_tool.questionnaire.versions import current_instrument

#: A small valid definition; validation tests break one line of it at a time.
MINIMAL_DEFINITION = """\
id = "mini"
version = 1
title = { en = "Mini", pl = "Mini" }
intro = { en = "A small instrument.", pl = "Mały kwestionariusz." }

[scale]
min = 1
max = 5
labels = [
  { en = "No" }, { en = "Rather no" }, { en = "Unsure" }, { en = "Rather yes" }, { en = "Yes" },
]

[interpretation]
low_up_to = 4.0
high_from = 7.0
strength_confidence = 0.90

[[areas]]
id = "first"
title = { en = "First" }
description = { en = "The first page." }

[[areas]]
id = "second"
title = { en = "Second" }
description = { en = "The second page." }

[[dimensions]]
id = "alpha"
area = "first"
name = { en = "Alpha" }
description = { en = "About alpha." }
strength = { en = "Strong in alpha." }
in_a_team = { en = "Lead with alpha." }
overuse = { en = "Too much alpha." }
suggestions = [{ en = "Do A." }, { en = "Do B." }, { en = "Do C." }]
bands.low = { en = "Little alpha." }
bands.moderate = { en = "Some alpha." }
bands.high = { en = "Much alpha." }
precision = { reliability = 0.70, sd = 1.6, provisional = true, source = "A guess." }

[[dimensions]]
id = "beta"
area = "second"
name = { en = "Beta" }
description = { en = "About beta." }
strength = { en = "Strong in beta." }
in_a_team = { en = "Lead with beta." }
overuse = { en = "Too much beta." }
suggestions = [{ en = "Do D." }, { en = "Do E." }, { en = "Do F." }]
bands.low = { en = "Little beta." }
bands.moderate = { en = "Some beta." }
bands.high = { en = "Much beta." }
precision = { reliability = 0.80, sd = 1.2, provisional = false, source = "Our data." }

[[items]]
id = "b1"
dimension = "beta"
text = { en = "Beta one." }

[[items]]
id = "a1"
dimension = "alpha"
text = { en = "Alpha one." }

[[items]]
id = "a2"
dimension = "alpha"
reverse = true
text = { en = "Alpha two." }

[[items]]
id = "check"
area = "first"
attention_check = 2
text = { en = "Choose 'Rather no'." }

[[items]]
id = "b2"
dimension = "beta"
reverse = true
text = { en = "Beta two." }
"""


@pytest.fixture
def minimal_definition() -> str:
    """The TOML text of a small valid instrument with two areas and two dimensions."""
    return MINIMAL_DEFINITION


@pytest.fixture
def instrument() -> Instrument:
    """The Design Mindset instrument new attempts use."""
    return current_instrument()


@pytest.fixture
def make_answers(instrument):
    """Build a complete, careful answer set: `keyed` for every scored item, checks passed.

    `keyed` is the value as it counts for the dimension, so reverse-keyed items get the
    mirrored raw answer; `raw` overrides set raw answers by item id.
    """

    def make(keyed: int = 4, **raw: int) -> dict[str, int]:
        scale = instrument.scale
        answers = {}
        for item in instrument.items:
            if item.is_attention_check:
                answers[item.id] = item.attention_check_expected
            else:
                answers[item.id] = scale.min + scale.max - keyed if item.reverse else keyed
        answers.update(raw)
        return answers

    return make
