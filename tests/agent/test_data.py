"""Warm-up data: expert trajectories, recoveries, reflections that never name the label, JSON lines."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest

from reflect_agent.agents import RandomAgent
from reflect_agent.data import (
    LETTER_LABELS,
    TEMPLATE_VERSION,
    DataArgs,
    LMReflectionWriter,
    ReflectionContext,
    TemplateWriter,
    _question_subject,
    check_reflection,
    contains_label,
    expert_records,
    main,
    policy_records,
    read_jsonl,
    reflector_state,
    write_jsonl,
)

TAXI = "ReflectRL/DangerousTaxi-Dropoff-v0"
FULL_TAXI = "ReflectRL/DangerousTaxi-v0"


@pytest.fixture(scope="module")
def taxi_records():
    return expert_records(FULL_TAXI, range(12), perturb_prob=0.3, rng_seed=0)


def test_expert_records_follow_the_expert_from_the_seed():
    records = expert_records(TAXI, range(4), perturb_prob=0.0)
    assert {r.kind for r in records} == {"expert"}
    env = gym.make(TAXI)
    for seed in range(4):
        episode = [r for r in records if r.seed == seed]
        _, info = env.reset(seed=seed)
        for record in episode:
            assert record.state == info["state"] and record.actions == info["actions"]
            assert record.expert_action == env.unwrapped.expert_action()
            _, _, terminated, truncated, info = env.step(record.expert_action)
        assert terminated and info["success"], f"seed {seed}: the expert's episode should end in success"


def test_wrong_steps_are_followed_by_recoveries(taxi_records):
    recoveries = [r for r in taxi_records if r.kind == "recovery"]
    assert recoveries, "perturb_prob=0.3 over 12 episodes should give recoveries"
    by_key = {(r.seed, r.step): r for r in taxi_records}
    for record in recoveries:
        before = by_key[(record.seed, record.step - 1)]
        assert record.previous_action != before.actions[before.expert_action]  # a wrong action was taken
        assert record.previous_action in record.reflection  # ... and the analysis talks about it
    # Steps after a good action carry the previous action too, but never call it a mistake.
    for record in taxi_records:
        if record.kind == "expert" and record.previous_action is not None:
            assert "mistake" not in record.reflection and "detour" not in record.reflection


def test_reflections_never_name_the_label(taxi_records):
    for record in taxi_records:
        assert not contains_label(record.reflection, str(record.expert_action)), record.reflection
        assert not contains_label(record.reflection, LETTER_LABELS[record.expert_action]), record.reflection
        assert not re.search(r"\d", record.reflection), f"taxi analyses spell numbers out: {record.reflection!r}"
        # The analysis points at the expert's action, by its direction or its own words.
        assert record.actions[record.expert_action].removeprefix("move ") in record.reflection


def test_reflections_vary_in_wording_with_the_seed():
    first = expert_records(TAXI, range(6), perturb_prob=0.0, rng_seed=0)
    second = expert_records(TAXI, range(6), perturb_prob=0.0, rng_seed=1)
    assert [r.state for r in first] == [r.state for r in second]
    differ = sum(a.reflection != b.reflection for a, b in zip(first, second, strict=True))
    assert differ >= len(first) // 3
    again = expert_records(TAXI, range(6), perturb_prob=0.0, rng_seed=0)
    assert [r.reflection for r in again] == [r.reflection for r in first]


def test_taxi_reflection_reads_like_analysis():
    record = expert_records(TAXI, [3], perturb_prob=0.0)[0]
    # Seed 3 starts at row 0, column 0, bound for the green depot at row 0, column 4 (walls in between).
    assert "green depot" in record.reflection
    assert "four columns to the right" in record.reflection
    assert "moving south" in record.reflection or "south first" in record.reflection


def test_fileqa_reflection_names_the_subject_and_the_place():
    records = expert_records("ReflectRL/FileQA-Depth1-v0", range(3), perturb_prob=0.0)
    first = records[0]
    target = first.actions[first.expert_action].split(" ", 1)[1]
    assert first.actions[first.expert_action].startswith("cd ")
    assert f"{target}/" in first.reflection
    assert "the file that defines" in first.reflection or "file that" in first.reflection
    for record in records:
        assert not contains_label(record.reflection, str(record.expert_action))


def test_a_digit_in_the_quoted_question_is_not_a_label():
    question = 'Which file is the Python module whose docstring begins "Code block (4 spaces of indent)."?'
    state = f"# Task\nFind the file.\nQuestion: {question}\n\n# Current directory\nrepo/\n"
    actions = ["cd ..", "cat a.py", "id a.py", "cat code.py", "id code.py"]
    context = ReflectionContext("ReflectRL/FileQA-Depth1-v0", state, actions, 4, None, None, False, None)
    reflection = TemplateWriter().write(context, np.random.default_rng(0))
    assert "(4 spaces" in reflection and "code.py" in reflection
    with pytest.raises(ValueError, match="names the label '4'"):
        check_reflection(reflection + " Take (4).", 4, actions + [_question_subject(question)])


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        (
            'Which file defines the class Headers, described as "Manage headers"?',
            "the file that defines the class Headers",
        ),
        (
            'Which file is the Python module whose docstring begins "Logging package."?',
            'the file that is the Python module whose docstring begins "Logging package."',
        ),
        (
            'Which document has a section titled "Overview" that begins "The email package."?',
            'the document that has a section titled "Overview"',
        ),
        (
            'Which data file, with 6 rows, has the columns suffix and expands_to and the first row "a, b"?',
            "the data file with 6 rows that has the columns suffix and expands_to",
        ),
    ],
)
def test_fileqa_subject_reads_as_a_noun_phrase_for_every_question_kind(question, subject):
    assert _question_subject(question) == subject


class _RecordingAgent(RandomAgent):
    """A random agent that remembers the actions it chose."""

    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[str] = []
        self.infos: list[dict] = []

    def act(self, obs, info):
        action = super().act(obs, info)
        self.infos.append(info)
        self.chosen.append(info["actions"][action])
        return action


def test_policy_records_visit_the_agents_states_and_label_them_with_the_expert():
    agent = _RecordingAgent()
    records = policy_records(FULL_TAXI, range(6), agent, expert_prob=0.0)
    env = gym.make(FULL_TAXI)
    taken: list[str] = []
    for seed in range(6):
        episode = [r for r in records if r.seed == seed]
        _, info = env.reset(seed=seed)
        for record in episode:
            assert record.state == info["state"] and record.expert_action == env.unwrapped.expert_action()
            action = info["actions"].index(agent.chosen[len(taken)])
            taken.append(info["actions"][action])
            _, _, terminated, truncated, info = env.step(action)
        assert terminated or truncated
    assert len(taken) == len(agent.chosen)  # the agent chose every step, and no other
    # It saw its episode's actions so far (all its own here), as benchmarks.evaluate shows them.
    for info in agent.infos:
        assert info["previous_action"] == (info["taken"][-1] if info["taken"] else None)
    assert agent.infos[0]["taken"] == [] and any(info["taken"] for info in agent.infos)
    for before, chosen, after in zip(agent.infos, agent.chosen, agent.infos[1:], strict=False):
        assert after["taken"] in ([], [*before["taken"], chosen])  # a new episode, or one more action
    by_key = {(r.seed, r.step): r for r in records}
    for record in records:
        if record.step > 0:
            before = by_key[(record.seed, record.step - 1)]
            wrong = record.previous_action != before.actions[before.expert_action]
            assert record.kind == ("recovery" if wrong else "expert")
    assert any(r.kind == "recovery" for r in records), "a random agent in Taxi should leave the expert's path"


def test_policy_records_with_the_expert_always_in_charge_are_the_experts_records():
    expert = expert_records(TAXI, range(3), perturb_prob=0.0)
    mixed = policy_records(TAXI, range(3), RandomAgent(seed=0), expert_prob=1.0)
    assert [(r.state, r.expert_action, r.kind) for r in mixed] == [(r.state, r.expert_action, r.kind) for r in expert]


def test_policy_records_reject_an_agent_that_picks_no_action():
    class Silent(RandomAgent):
        def act(self, obs, info):
            return -1

    with pytest.raises(ValueError, match="chose no admissible action"):
        policy_records(TAXI, [0], Silent(), expert_prob=0.0)
    with pytest.raises(ValueError, match="expert_prob must lie in"):
        policy_records(TAXI, [0], RandomAgent(), expert_prob=1.5)
    with pytest.raises(ValueError, match="perturb_prob must lie in"):
        expert_records(TAXI, [0], perturb_prob=-0.1)


def test_the_data_command_records_an_agents_states(tmp_path, capsys):
    out = tmp_path / "dagger.jsonl"
    main(DataArgs(env_id=TAXI, out=str(out), seeds=3, agent="random", expert_prob=0.5, env_kwargs={"horizon": 9}))
    records = read_jsonl(out)
    assert {r.seed for r in records} == {0, 1, 2}
    assert {r.env_kwargs["horizon"] for r in records} == {9}
    assert "records" in capsys.readouterr().out


def test_jsonl_round_trip_keeps_env_seed_and_template(tmp_path, taxi_records):
    path = write_jsonl(taxi_records, tmp_path / "data.jsonl")
    loaded = read_jsonl(path)
    assert loaded == taxi_records
    assert {r.template_version for r in loaded} == {TEMPLATE_VERSION}
    assert {r.env_id for r in loaded} == {FULL_TAXI}
    assert {r.seed for r in loaded} == set(range(12))


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


def test_lm_writer_uses_the_reply_and_falls_back_on_leaks():
    prompts: list[str] = []

    def good(prompt: str) -> str:
        prompts.append(prompt)
        return "The destination is close; keep heading toward it."

    records = expert_records(TAXI, [0], perturb_prob=0.0, writer=LMReflectionWriter(good, "fake-model"))
    assert {r.reflection for r in records} == {"The destination is close; keep heading toward it."}
    assert {r.template_version for r in records} == {"lm:fake-model"}
    assert "Recommended action: " in prompts[0] and "Steps to the goal" in prompts[0]

    def leak(prompt: str) -> str:
        return "Choose " + " or ".join(f"({label})" for label in LETTER_LABELS[:6]) + "."

    leaky = expert_records(TAXI, [0], perturb_prob=0.0, writer=LMReflectionWriter(leak, "m"))
    for record in leaky:
        assert "Choose" not in record.reflection  # the template wrote it instead


def test_reflector_state_appends_the_last_action():
    assert reflector_state("state", None) == "state"
    assert reflector_state("state", "move north") == "state\nLast action: move north."
