"""Dropdown choices, labels and info texts, derived from the core's field declarations."""

from __future__ import annotations

from milady_integrations.request import FIELDS
from milady_integrations.wording import choice_label

#: A few prompts to start from.
EXAMPLE_PROMPTS: tuple[str, ...] = (
    "A red fox reading a book under a lantern, autumn forest at dusk",
    "A lighthouse on a cliff in a storm, waves crashing, moody sky",
    "A tiny robot watering a bonsai tree on a sunny windowsill",
    "A bowl of ramen seen from above, steam rising, warm light",
)


def choices(field: str) -> list[tuple[str, str]]:
    """(label, value) pairs for a dropdown: ``16:9 · Wide landscape``."""
    return [(choice_label(field, value), value) for value in FIELDS[field].choices or ()]
