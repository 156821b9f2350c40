"""The curriculum moves on by success threshold or by schedule."""

from __future__ import annotations

import dataclasses
import json

import pytest

from reflect_agent.curriculum import CURRICULA, Curriculum, CurriculumConfig


def test_curriculum_by_success_threshold_and_by_schedule():
    by_success = Curriculum(CurriculumConfig(stages=("taxi",), switch="success", success_threshold=0.5, window=2), "x")
    assert by_success.stages == CURRICULA["taxi"] and by_success.env_id.endswith("Pickup-v0")
    assert not by_success.update(0.9)  # the window is not full yet
    assert by_success.update(0.6) and by_success.env_id.endswith("Dropoff-v0")
    assert not by_success.update(0.2) and not by_success.update(0.6)  # a fresh window, averaging 0.4
    state = by_success.state_dict()
    restored = Curriculum(CurriculumConfig(stages=("taxi",), switch="success", success_threshold=0.5, window=2), "x")
    restored.load_state_dict(json.loads(json.dumps(state)))
    assert restored.state_dict() == state
    assert restored.update(1.0) and restored.is_last  # [0.6, 1.0] averages 0.8: move on

    schedule = Curriculum(CurriculumConfig(stages=("a", "b", "c"), switch="schedule", stage_iterations=(1, 2)), "x")
    moves = [schedule.update(0.0) for _ in range(5)]
    assert moves == [True, False, True, False, False] and schedule.env_id == "c"
    with pytest.raises(ValueError, match="needs 2 stage_iterations"):
        CurriculumConfig(stages=("a", "b", "c"), switch="schedule", stage_iterations=(1,))
    with pytest.raises(ValueError, match="differ from this run"):
        Curriculum(CurriculumConfig(), "other").load_state_dict(state)


def test_the_trainer_plays_each_stage_in_turn_and_resumes_in_its_stage(tmp_path, monkeypatch):
    from reflect_agent import ppo
    from tests.agent.toy_envs import BANDIT, WALK, tiny_config

    played: list[str] = []
    collect = ppo.collect_rollout

    def recording(envs, *args, **kwargs):
        played.append(envs.spec.id)  # the env actually played, not the label it is given
        return collect(envs, *args, **kwargs)

    monkeypatch.setattr(ppo, "collect_rollout", recording)
    stages = CurriculumConfig(stages=(BANDIT, WALK), switch="schedule", stage_iterations=(2,))
    config = tiny_config(tmp_path, iterations=3, num_envs=4, curriculum=stages)
    rows = ppo.ReflectRLTrainer(config).train()
    assert played == [BANDIT, BANDIT, WALK]
    assert [row["curriculum/stage"] for row in rows] == [0, 0, 1]
    assert [row["curriculum/moved"] for row in rows] == [0.0, 1.0, 0.0]

    # Resumed from iteration 2's checkpoint, the run goes on in the second stage.
    played.clear()
    resumed = ppo.ReflectRLTrainer(dataclasses.replace(config, name="resumed"))
    resumed.load_checkpoint(tmp_path / "run" / "checkpoints" / "iter_000002")
    resumed.iteration()
    assert played == [WALK]
