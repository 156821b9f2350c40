"""FileQA's templates: they name the question's subject and the next place, from the env's facts."""

from __future__ import annotations

import numpy as np
import pytest

from reflect_agent.warmup import ReflectionContext, TemplateWriter, check_reflection, contains_label, expert_records
from reflect_gym.envs.fileqa import question_subject

FILEQA = "ReflectRL/FileQA-Depth1-v0"


def test_fileqa_reflection_names_the_subject_and_the_place():
    records = expert_records(FILEQA, range(3), perturb_prob=0.0)
    first = records[0]
    target = first.actions[first.expert_action].split(" ", 1)[1]
    assert first.actions[first.expert_action].startswith("cd ")
    assert f"{target}/" in first.reflection
    assert "the file that defines" in first.reflection or "file that" in first.reflection
    for record in records:
        assert not contains_label(record.reflection, str(record.expert_action))


def test_a_digit_in_the_quoted_question_is_not_a_label():
    question = 'Which file is the Python module whose docstring begins "Code block (4 spaces of indent)."?'
    facts = {"question": question, "subject": question_subject(question)}
    actions = ["cd ..", "cat a.py", "id a.py", "cat code.py", "id code.py"]
    context = ReflectionContext(FILEQA, "Any state text.", actions, 4, None, facts=facts)
    reflection = TemplateWriter().write(context, np.random.default_rng(0))
    assert "(4 spaces" in reflection and "code.py" in reflection
    with pytest.raises(ValueError, match="names the label '4'"):
        check_reflection(reflection + " Take (4).", 4, actions + [facts["subject"]])


def test_missing_facts_are_a_clear_error():
    context = ReflectionContext(FILEQA, "Question: Which file?", ["cd .."], 0, None)
    with pytest.raises(ValueError, match="FileQA templates need the state fact 'subject'"):
        TemplateWriter().write(context, np.random.default_rng(0))
