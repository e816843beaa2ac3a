"""Questionnaire fixtures: the bundled instrument, an answer factory, a small definition."""

from __future__ import annotations

import pytest

from lti_tool.questionnaire.instrument import Instrument, default_instrument

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
suggestions = [{ en = "Do A." }, { en = "Do B." }, { en = "Do C." }]

[[dimensions]]
id = "beta"
area = "second"
name = { en = "Beta" }
description = { en = "About beta." }
strength = { en = "Strong in beta." }
suggestions = [{ en = "Do D." }, { en = "Do E." }, { en = "Do F." }]

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
    """The bundled Design Mindset instrument, version 1."""
    return default_instrument()


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
