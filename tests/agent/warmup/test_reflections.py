"""The label rule every reflection keeps, and the generic templates."""

from __future__ import annotations

import numpy as np
import pytest

from reflect_agent.prompts import LETTER_LABELS
from reflect_agent.warmup import (
    Lookahead,
    Outcome,
    ReflectionContext,
    TemplateWriter,
    check_reflection,
    contains_label,
    number_word,
)


def test_label_detection():
    assert check_reflection("The best next step is 'go to cabinet 1'.", 1, ["look", "go to cabinet 1"])
    with pytest.raises(ValueError, match="names the label '1'"):
        check_reflection("Take 1: 'go to cabinet 1'.", 1, ["look", "go to cabinet 1"])
    assert contains_label("Pick 2 now.", "2")
    assert contains_label("Take action (2).", "2")
    assert not contains_label("Open report_2.txt or 2.txt.", "2")
    assert contains_label("The answer is option B.", "B")
    assert contains_label("Choose (B).", "B")
    assert not contains_label("A wall blocks the way. B depot.", "A")
    with pytest.raises(ValueError, match="label '3'"):
        check_reflection("Take 3.", 3)
    with pytest.raises(ValueError, match="empty"):
        check_reflection("   ", 0)


def test_the_policys_letter_label_counts_too():
    with pytest.raises(ValueError, match=f"names the label '{LETTER_LABELS[2]}'"):
        check_reflection(f"Choose ({LETTER_LABELS[2]}).", 2)


def test_numbers_are_spelled_out_up_to_twenty():
    assert [number_word(n) for n in (0, 7, 20, 21, -1)] == ["zero", "seven", "twenty", "many", "many"]


def test_generic_templates_use_look_ahead_and_warn_about_fatal_actions():
    actions = ["go north", "go south", "jump"]
    outcomes = [
        Outcome(0.0, False, False, False, 3),
        Outcome(-1.0, True, False, False),
        Outcome(0.0, False, False, False, 5),
    ]
    context = ReflectionContext("ReflectRL/BabyAI-GoToRedBall-v0", "A room.", actions, 0, Lookahead(outcomes, 4))
    texts = {TemplateWriter().write(context, np.random.default_rng(seed)) for seed in range(20)}
    assert all("'go north'" in text for text in texts)
    assert any("four" in text for text in texts)
    assert any("'go south'" in text and "end the episode" in text for text in texts)
    assert not any(contains_label(text, "0") for text in texts)
