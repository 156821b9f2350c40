"""The registry of family templates: each family by its env ids, the generic templates elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from reflect_agent.warmup import FAMILY_TEMPLATES, ReflectionContext, TemplateWriter, env_family
from reflect_agent.warmup.fileqa import fileqa_reflection
from reflect_agent.warmup.taxi import taxi_reflection


@pytest.mark.parametrize(
    ("env_id", "family"),
    [
        ("ReflectRL/DangerousTaxi-Dropoff-v0", "DangerousTaxi"),
        ("ReflectRL/DangerousTaxi-v0", "DangerousTaxi"),
        ("ReflectRL/FileQA-Depth1-v0", "FileQA"),
        ("ReflectRL/BabyAI-GoToRedBall-v0", "BabyAI"),
        ("CartPole-v1", "CartPole"),
    ],
)
def test_env_family_is_the_name_before_its_configuration(env_id, family):
    assert env_family(env_id) == family


def test_the_registry_names_the_taxi_and_fileqa_templates_and_is_read_only():
    assert dict(FAMILY_TEMPLATES) == {"DangerousTaxi": taxi_reflection, "FileQA": fileqa_reflection}
    with pytest.raises(TypeError):
        FAMILY_TEMPLATES["BabyAI"] = taxi_reflection  # type: ignore[index]


def test_a_family_outside_the_registry_gets_the_generic_templates_and_a_writer_can_add_one():
    facts = {"subject": "the file that defines the class Widget"}  # FileQA facts, under another family's id
    context = ReflectionContext("ReflectRL/BabyAI-GoToRedBall-v0", "A room.", ["go north"], 0, None, facts=facts)
    generic = TemplateWriter().write(context, np.random.default_rng(0))
    assert "Widget" not in generic and "'go north'" in generic
    writer = TemplateWriter(templates={**FAMILY_TEMPLATES, "BabyAI": fileqa_reflection})
    assert "Widget" in writer.write(context, np.random.default_rng(0))
