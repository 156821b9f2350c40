"""Prompts: the reflector's view of a state, and the policy's default labels."""

from __future__ import annotations

from reflect_agent.prompts import LABEL_PRESETS, LETTER_LABELS, reflector_state


def test_reflector_state_appends_the_last_action():
    assert reflector_state("state", None) == "state"
    assert reflector_state("state", "move north") == "state\nLast action: move north."


def test_letter_labels_are_the_letters_preset_without_its_spaces():
    assert tuple(f" {c}" for c in LETTER_LABELS) == LABEL_PRESETS["letters"]
