"""The RL trainer end to end on a tiny model and a tiny task: learning, resume, errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from reflect_agent.checkpoint import rng_state
from reflect_agent.policy import PolicyConfig
from reflect_agent.ppo import NonFiniteLossError, ReflectRLTrainer, update_policy
from reflect_agent.rollout import collect_rollout
from tests.agent.toy_envs import WALK, tiny_config, trainable_state


def test_training_learns_the_tiny_task_with_finite_losses(tmp_path):
    trainer = ReflectRLTrainer(tiny_config(tmp_path))
    rows = trainer.train()
    success = [row["env/success_rate"] for row in rows]
    assert success[0] < 0.5, f"the untrained policy should rarely pick blue: {success}"
    assert np.mean(success[-2:]) >= 0.8 and np.mean(success[-2:]) > success[0] + 0.3, success
    for row in rows:
        for key in ("losses/pg_loss", "losses/v_loss", "losses/entropy", "losses/approx_kl"):
            assert np.isfinite(row[key]), (key, row)
    assert trainer.evaluate(8).success_rate == 1.0
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in lines] == [1, 2, 3, 4]
    assert (tmp_path / "run" / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_resume_reproduces_the_same_state(tmp_path):
    config = tiny_config(tmp_path, iterations=2)
    first = ReflectRLTrainer(config)
    first.train()
    expected = trainable_state(first.policy)
    expected_rng = rng_state(first.rng)
    expected_replay = first.replay.state_dict()

    # From the checkpoint of iteration 1, one more iteration lands on the state of iteration 2.
    second = ReflectRLTrainer(dataclasses.replace(config, name="run"))
    second.load_checkpoint(tmp_path / "run" / "checkpoints" / "iter_000001")
    assert second.iteration_count == 1
    second.iteration()
    for name, value in trainable_state(second.policy).items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0, msg=name)
    assert second.replay.state_dict() == expected_replay
    assert rng_state(second.rng)["numpy"] == expected_rng["numpy"]
    assert torch.equal(rng_state(second.rng)["torch"], expected_rng["torch"])
    for group, other in zip(
        second.optimizer.state_dict()["state"].values(), first.optimizer.state_dict()["state"].values(), strict=True
    ):
        torch.testing.assert_close(group["exp_avg"], other["exp_avg"], rtol=0, atol=0)

    # --resume picks the newest checkpoint and has nothing left to do.
    resumed = ReflectRLTrainer(dataclasses.replace(config, resume=True))
    assert resumed.iteration_count == 2
    assert resumed.curriculum.state_dict() == first.curriculum.state_dict()
    for name, value in trainable_state(resumed.policy).items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0, msg=name)
    assert resumed.train()[-1]["iteration"] == 2  # the earlier rows are kept, none added


def test_resume_trains_on_and_refuses_other_settings(tmp_path):
    config = tiny_config(tmp_path, iterations=1, num_envs=4)
    ReflectRLTrainer(config).train()

    longer = ReflectRLTrainer(
        dataclasses.replace(config, iterations=2, resume=True, progress=True, eval_env_kwargs={"horizon": 3})
    )
    assert longer.iteration_count == 1
    assert [row["iteration"] for row in longer.train()] == [1, 2]

    changed = dataclasses.replace(config, iterations=3, resume=True, rl=dataclasses.replace(config.rl, clip_coef=0.1))
    with pytest.raises(ValueError, match=r"other settings \(rl\.clip_coef: 0\.2 -> 0\.1\)\. Run again with the same"):
        ReflectRLTrainer(changed)


def test_nan_loss_is_an_error_with_context(tmp_path):
    trainer = ReflectRLTrainer(tiny_config(tmp_path))
    rollout = collect_rollout(trainer.envs(), trainer.policy, None, list(range(16)))
    with torch.no_grad():
        trainer.policy.value_head.weight.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match=r"Non-finite loss nan \(iteration 7, epoch 0.*v_loss=nan"):
        update_policy(
            trainer.policy, trainer.optimizer, rollout, trainer.config.rl, torch.Generator(), context="iteration 7, "
        )
    trainer.close()


def test_a_scoring_policy_learns_the_tiny_task_online(tmp_path):
    policy = PolicyConfig(model="tiny", device="cpu", temperature=0.2, decider="scoring")
    trainer = ReflectRLTrainer(tiny_config(tmp_path, policy=policy, iterations=5))
    rows = trainer.train()
    success = [row["env/success_rate"] for row in rows]
    assert success[0] < 0.5 and np.mean(success[-2:]) >= 0.8, success
    assert all(np.isfinite(row["losses/pg_loss"]) for row in rows)
    assert trainer.evaluate(8).success_rate == 1.0


def test_the_reflection_cache_is_measured_and_kept_across_a_resume(tmp_path):
    from reflect_agent.reflector import ReflectorConfig

    reflector = ReflectorConfig(model="tiny", device="cpu", max_new_tokens=3)
    config = tiny_config(tmp_path, env_id=WALK, iterations=1, use_reflector=True, reflector=reflector)
    first = ReflectRLTrainer(config)
    row = first.train()[0]
    # 16 corridors start in the same state: one reflection is generated for it, the 15 others are hits.
    assert row["perf/reflect_cache_hits"] >= 15 and 0 < row["perf/reflect_cache_hit_rate"] < 1
    assert row["perf/reflect_cache_entries"] == len(first.reflector.cache) > 0
    resumed = ReflectRLTrainer(dataclasses.replace(config, iterations=2, resume=True))
    assert resumed.reflector.cache.state_dict() == first.reflector.cache.state_dict()
    saved = next((tmp_path / "run" / "checkpoints").glob("iter_*")) / "reflection_cache.json"
    saved.write_text(json.dumps({**json.loads(saved.read_text()), "identity": "a retrained reflector"}))
    other = ReflectRLTrainer(dataclasses.replace(config, iterations=2, resume=True))
    assert len(other.reflector.cache) == 0  # another reflector's reflections are never used
