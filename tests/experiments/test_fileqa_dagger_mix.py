"""The mix of FileQA DAgger records: labels that repeat a move are dropped, returns to the root are kept."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest

from tests.utils import require_extra

require_extra("agent", "torch", "transformers")

from experiments.fileqa_dagger_mix.mix import Args, history, main, repeats_a_move, returned  # noqa: E402
from reflect_agent.episodes import Decision  # noqa: E402
from reflect_agent.warmup import expert_records, policy_records, read_jsonl, write_jsonl  # noqa: E402

ENV_ID = "ReflectRL/FileQA-Depth1-v0"


class Script:
    """An agent that plays a fixed list of commands."""

    name = "script"

    def __init__(self, commands: list[str]):
        self.commands = commands

    def reset(self, seed: int) -> None:
        self.queue = list(self.commands)

    def decide(self, turns, envs=None) -> Decision:
        return Decision([turn.actions.index(self.queue.pop(0)) for turn in turns])


@pytest.fixture(scope="module")
def moves() -> dict[str, str]:
    """The commands of seed 0's task: the answer's folder, another folder and the answer."""
    env = gym.make(ENV_ID)
    _, info = env.reset(seed=0)
    folder, name = info["task"]["answers"][0].split("/")
    env.close()
    right = f"cd {folder}"
    wrong = next(a for a in info["actions"] if a.startswith("cd ") and a != right)
    return {"right": right, "wrong": wrong, "id": f"id {name}"}


def play(commands: list[str]):
    return policy_records(ENV_ID, [0], Script(commands), expert_prob=0.0, look_ahead=False)


def test_a_return_from_a_wrong_folder_is_kept_and_nothing_is_dropped(moves):
    records = play([moves["wrong"], "cd ..", moves["right"], moves["id"]])
    assert [history(r) for r in records] == [
        [],
        [moves["wrong"]],
        [moves["wrong"], "cd .."],
        [moves["wrong"], "cd ..", moves["right"]],
    ]
    assert [returned(r) for r in records] == [False, False, True, False]
    assert not any(repeats_a_move(r) for r in records)


def test_entering_a_folder_again_and_going_up_again_are_repeated_moves(moves):
    again = play([moves["right"], "cd ..", moves["right"], moves["id"]])
    assert [repeats_a_move(r) for r in again] == [False, False, True, False]  # the label at the root re-enters
    assert not any(returned(r) for r in again)
    twice = play([moves["wrong"], "cd ..", moves["wrong"], "cd ..", moves["right"], moves["id"]])
    assert [repeats_a_move(r) for r in twice] == [False, False, False, True, False, False]  # going up a second time
    assert [returned(r) for r in twice] == [False, False, True, False, True, False]


def test_main_mixes_the_files(tmp_path, moves):
    runs = {
        "again": play([moves["right"], "cd ..", moves["right"], moves["id"]]),
        "wrong": play([moves["wrong"], "cd ..", moves["right"], moves["id"]]),
    }
    for name, records in runs.items():
        write_jsonl(records, tmp_path / f"{name}.jsonl")
    out = tmp_path / "mix.jsonl"
    counts = main(
        Args(
            out=str(out),
            records=[str(tmp_path / "again.jsonl")],
            returns=[str(tmp_path / "wrong.jsonl")],
            returns_repeat=2,
        )
    )
    assert counts == {"kept": 3, "dropped": 1, "returns": 1}
    mixed = read_jsonl(out)
    expected = [runs["again"][i] for i in (0, 1, 3)] + [runs["wrong"][2]] * 2
    assert [dataclasses.asdict(r) for r in mixed] == [dataclasses.asdict(r) for r in expected]


def test_bad_input_is_an_error_that_names_the_fix(tmp_path):
    taxi = expert_records("ReflectRL/DangerousTaxi-Dropoff-v0", [0], perturb_prob=0.0, look_ahead=False)
    with pytest.raises(ValueError, match="FileQA records only"):
        history(taxi[0])
    with pytest.raises(ValueError, match="--returns-repeat must be at least 1"):
        main(Args(out=str(tmp_path / "x.jsonl"), returns=["a.jsonl"], returns_repeat=0))
    with pytest.raises(ValueError, match="pass --records"):
        main(Args(out=str(tmp_path / "x.jsonl")))
