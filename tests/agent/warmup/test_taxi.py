"""DangerousTaxi's templates: they read the env's facts, not its text, and read like an analysis."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest

from reflect_agent.prompts import LETTER_LABELS
from reflect_agent.warmup import ReflectionContext, TemplateWriter, contains_label, expert_records
from reflect_gym.core import state_facts

TAXI = "ReflectRL/DangerousTaxi-Dropoff-v0"


def test_taxi_reflection_reads_like_analysis():
    record = expert_records(TAXI, [3], perturb_prob=0.0)[0]
    # Seed 3 starts at row 0, column 0, bound for the green depot at row 0, column 4 (walls in between).
    assert "green depot" in record.reflection
    assert "four columns to the right" in record.reflection
    assert "moving south" in record.reflection or "south first" in record.reflection


def test_reflections_never_name_the_label_and_point_at_the_experts_move(taxi_records):
    for record in taxi_records:
        assert not contains_label(record.reflection, str(record.expert_action)), record.reflection
        assert not contains_label(record.reflection, LETTER_LABELS[record.expert_action]), record.reflection
        assert not re.search(r"\d", record.reflection), f"taxi analyses spell numbers out: {record.reflection!r}"
        assert record.actions[record.expert_action].removeprefix("move ") in record.reflection


def test_the_templates_read_the_facts_not_the_state_text():
    env = gym.make(TAXI)
    _, info = env.reset(seed=3)
    expert = env.unwrapped.expert_action()
    facts = state_facts(env)
    written = [
        TemplateWriter().write(
            ReflectionContext(TAXI, state, info["actions"], expert, None, facts=facts), np.random.default_rng(0)
        )
        for state in (info["state"], "The same state, in other words.")
    ]
    assert written[0] == written[1]
    assert "green depot" in written[0]


def test_missing_facts_are_a_clear_error():
    context = ReflectionContext(TAXI, "Taxi: row 0, column 0.", ["move south"], 0, None)
    with pytest.raises(ValueError, match=r"DangerousTaxi templates need the state facts .*state_facts\(env\)"):
        TemplateWriter().write(context, np.random.default_rng(0))
