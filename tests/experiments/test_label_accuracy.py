"""The held-out label accuracy check: seed splits, scores, and a run on the tiny model."""

from __future__ import annotations

import json

import pytest

from tests.utils import require_extra

require_extra("agent", "torch")

from experiments.label_accuracy.accuracy import Args, label_accuracy, main, split_by_seed  # noqa: E402
from reflect_agent.sft import SFTConfig  # noqa: E402
from reflect_agent.warmup import StepRecord, expert_records, write_jsonl  # noqa: E402


def record(seed: int, step: int, expert_action: int = 0, kind: str = "expert") -> StepRecord:
    return StepRecord(
        env_id="ReflectRL/FileQA-v0",
        seed=seed,
        step=step,
        kind=kind,
        state=f"state {seed}.{step}",
        actions=["cd json", "cat a.py", "id a.py"],
        expert_action=expert_action,
        reflection="",
        previous_action=None,
    )


def test_whole_episodes_are_held_out():
    records = [record(seed, step) for seed in (5, 1, 3, 2, 4, 6) for step in range(3)]
    train, held = split_by_seed(records, every=3)
    assert {r.seed for r in held} == {1, 4}
    assert {r.seed for r in train} == {2, 3, 5, 6}
    assert len(train) + len(held) == len(records)
    with pytest.raises(ValueError, match="held_out_every"):
        split_by_seed(records, every=1)


class FixedPicks:
    """Stands in for a policy: picks the given indices, in order."""

    def __init__(self, picks: list[int]):
        self.picks = picks

    def act(self, states, actions, reflections=None, *, greedy=False):
        picks, self.picks = self.picks[: len(states)], self.picks[len(states) :]
        return picks


def test_scores_count_right_picks_per_command_and_first_labels():
    records = [record(0, 0, 1), record(0, 1, 2), record(1, 0, 1), record(1, 1, 2)]  # cat, id, cat, id
    score = label_accuracy(FixedPicks([1, 0, 0, 2]), records, batch_size=3)
    assert score["accuracy"] == 0.5
    assert score["by_command"] == {"cat": [1, 2], "id": [1, 2]}
    assert score["first_label"] == 0.5
    assert score["chance"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="No records"):
        label_accuracy(FixedPicks([]), [])


def test_main_scores_before_and_after_sft_on_the_tiny_model(tmp_path):
    data = write_jsonl(
        expert_records("ReflectRL/DangerousTaxi-Dropoff-v0", range(6), perturb_prob=0.0), tmp_path / "d.jsonl"
    )
    out = tmp_path / "result.json"
    args = Args(
        data=data,
        model="tiny",
        lora_layers=None,
        max_prompt_tokens=256,
        sft=SFTConfig(max_steps=2, batch_size=4, reflection_prob=0.0),
        held_out_every=3,
        out=out,
    )
    result = main(args)
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    held = result["held_out_after"]
    assert held["records"] == result["held_out_before"]["records"] > 0
    assert sum(n for _, n in held["by_command"].values()) == held["records"]
    assert result["sft"]["steps"] == 2
    assert result["train_after"]["records"] <= held["records"]
