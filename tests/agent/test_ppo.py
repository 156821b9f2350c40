"""The RL trainer end to end on a tiny model and a tiny task: learning, resume, errors."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import pickle

import numpy as np
import pytest
import torch

from reflect_agent.checkpoint import CheckpointError, CheckpointWarning, rng_state
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.ppo import NonFiniteLossError, ReflectRLTrainer, changed_settings, update_policy
from reflect_agent.rollout import collect_rollout
from tests.agent.conftest import perturb_lora
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
    second = ReflectRLTrainer(dataclasses.replace(config, name="second"))
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
    rollout = collect_rollout(trainer.envs(), trainer.policy, None, list(range(16)), env_id=trainer.config.env_id)
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


def test_the_reflection_cache_and_the_drafts_are_measured_and_kept_across_a_resume(tmp_path):
    from reflect_agent.reflector import ReflectorConfig

    reflector = ReflectorConfig(model="tiny", device="cpu", max_new_tokens=3)
    config = tiny_config(tmp_path, env_id=WALK, iterations=1, use_reflector=True, reflector=reflector)
    first = ReflectRLTrainer(config)
    row = first.train()[0]
    # 16 corridors start in the same state: one reflection is generated for it, the 15 others are hits.
    assert row["perf/reflect_cache_hits"] >= 15 and 0 < row["perf/reflect_cache_hit_rate"] < 1
    assert row["perf/reflect_cache_entries"] == len(first.reflector.cache) > 0
    # With the same reflection the 16 first prompts are one: the policy runs on it once.
    assert round(row["perf/policy_prompts_reused"] * row["perf/decisions"]) >= 15
    # The generated ones' decoding is measured: prompt and decode seconds, and steps per pass (3-token analyses).
    assert row["perf/reflect_prefill_s"] > 0 and row["perf/reflect_steps_per_pass"] >= 1
    resumed = ReflectRLTrainer(dataclasses.replace(config, iterations=2, resume=True))
    assert resumed.reflector.cache.state_dict() == first.reflector.cache.state_dict()
    assert first.reflector.drafts.table and resumed.reflector.drafts.table == first.reflector.drafts.table
    saved = next((tmp_path / "run" / "checkpoints").glob("iter_*")) / "reflection_cache.json"
    saved.write_text(json.dumps({**json.loads(saved.read_text()), "identity": "a retrained reflector"}))
    other = ReflectRLTrainer(dataclasses.replace(config, iterations=2, resume=True))
    assert len(other.reflector.cache) == 0  # another reflector's reflections are never used


def group_config(tmp_path, advantage="grpo", **overrides):
    config = tiny_config(tmp_path, group_size=4, replay_episodes=0)
    return dataclasses.replace(config, rl=dataclasses.replace(config.rl, advantage=advantage), **overrides)


def test_grpo_learns_the_tiny_task_without_training_the_value_head(tmp_path):
    trainer = ReflectRLTrainer(group_config(tmp_path))
    value_head = {k: v.clone() for k, v in trainer.policy.value_head.state_dict().items()}
    rows = trainer.train()
    success = [row["env/success_rate"] for row in rows]
    assert success[0] < 0.5 and np.mean(success[-2:]) >= 0.8, success
    for key, value in trainer.policy.value_head.state_dict().items():  # critic-free: no value loss
        torch.testing.assert_close(value, value_head[key], rtol=0, atol=0)
    assert all(row.get("losses/v_loss", 0.0) == 0 and "losses/explained_var" not in row for row in rows)
    assert rows[0]["groups/count"] == 4 and rows[0]["groups/return_std"] > 0
    assert rows[0]["kl/start_policy"] == pytest.approx(0.0, abs=1e-6)  # the rollout policy is the start policy
    assert rows[-1]["kl/start_policy"] > 0.05  # it has moved away since


def test_gigpo_learns_a_task_that_needs_credit_per_step(tmp_path):
    # Three steps right win; "wait" stays in the same state (an anchor state within one episode) at a cost,
    # "step left" ends the episode; only the step that was taken from each state tells them apart.
    config = group_config(tmp_path, advantage="gigpo", env_id=WALK, env_kwargs={"horizon": 6}, iterations=6)
    # At this learning rate GiGPO learned it from seeds 0, 1 and 2, GRPO from one of them (tried by hand).
    config = dataclasses.replace(config, rl=dataclasses.replace(config.rl, learning_rate=3e-3, update_epochs=2))
    trainer = ReflectRLTrainer(config)
    rows = trainer.train()
    success = [row["env/success_rate"] for row in rows]
    assert success[0] < 0.5 and np.mean(success[-2:]) >= 0.8, success
    assert all(row["groups/anchored_share"] > 0.5 for row in rows)
    assert trainer.evaluate(8).success_rate == 1.0


def test_a_group_rollout_plays_each_seed_group_size_times_and_resumes(tmp_path, monkeypatch):
    import reflect_agent.ppo

    played = []

    def recording(envs, policy, reflector, seeds, **kwargs):
        rollout = collect_rollout(envs, policy, reflector, seeds, **kwargs)
        played.append([e.seed for e in rollout.episodes])
        return rollout

    monkeypatch.setattr(reflect_agent.ppo, "collect_rollout", recording)
    config = group_config(tmp_path, iterations=2, num_envs=8)
    first = ReflectRLTrainer(config)
    first.train()
    for seeds in played:
        assert [seeds[0]] * 4 == seeds[:4] and [seeds[4]] * 4 == seeds[4:] and seeds[0] != seeds[4]
    expected = trainable_state(first.policy)

    # From the checkpoint of iteration 1, one more iteration plays the same seeds and lands on the same state.
    second = ReflectRLTrainer(dataclasses.replace(config, name="second"))
    second.load_checkpoint(tmp_path / "run" / "checkpoints" / "iter_000001")
    torch.testing.assert_close(second.start_weights, first.start_weights, rtol=0, atol=0)
    second.iteration()
    assert played[-1] == played[1]
    for name, value in trainable_state(second.policy).items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0, msg=name)


def test_group_settings_that_cannot_work_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"num_envs \(6\) must be a multiple of group_size \(4\)"):
        tiny_config(tmp_path, num_envs=6, group_size=4)
    with pytest.raises(ValueError, match="set group_size >= 2"):
        group_config(tmp_path, group_size=1)
    with pytest.raises(ValueError, match="set replay_episodes 0"):
        group_config(tmp_path, replay_episodes=2)


def test_the_kl_penalty_pulls_the_policy_back_to_the_start(tmp_path):
    config = group_config(tmp_path, num_envs=8)
    rl = dataclasses.replace(
        config.rl, kl_coef=1.0, drop_uniform_groups=False, update_epochs=1, minibatch_size=64, micro_batch_size=64
    )
    trainer = ReflectRLTrainer(config)
    # Every episode of a group gets the same return when all pick blue, so only the penalty moves the policy.
    rollout = collect_rollout(trainer.envs(), trainer.policy, None, [0] * 8, env_id=trainer.config.env_id, greedy=True)
    rollout.episodes = [dataclasses.replace(e, rewards=[1.0]) for e in rollout.episodes]
    start = rollout.logprobs - 0.5  # the start policy thought less of these actions
    metrics = update_policy(trainer.policy, trainer.optimizer, rollout, rl, torch.Generator(), start_logprobs=start)
    assert metrics["losses/kl_loss"] == pytest.approx(float(np.exp(-0.5) + 0.5 - 1), rel=1e-4)  # k3 at the start
    _, after, _, _ = trainer.policy.get_action_and_value(rollout.batch, rollout.actions)
    assert (after.detach() < rollout.logprobs).all()  # moved toward the start policy
    with pytest.raises(ValueError, match="start_logprobs"):
        update_policy(trainer.policy, trainer.optimizer, rollout, rl, torch.Generator())
    trainer.close()


def test_the_ratio_clip_stops_the_update_once_the_policy_has_moved_far(tmp_path):
    config = tiny_config(tmp_path, num_envs=8)
    trainer = ReflectRLTrainer(config)
    rollout = collect_rollout(trainer.envs(), trainer.policy, None, list(range(8)), env_id=trainer.config.env_id)
    trainer.close()
    rollout.logprobs = rollout.logprobs - 1.0  # the policy that acted thought e times less of these actions
    rollout.rewards[0] = 1.0  # every decision looks good: the update wants to raise them further
    start = trainable_state(trainer.policy)

    def moved(clip_coef):
        rl = dataclasses.replace(
            config.rl, clip_coef=clip_coef, vf_coef=0.0, ent_coef=0.0, normalize_advantages=False, value_baseline=False
        )
        policy, optimizer = (
            trainer.policy,
            torch.optim.AdamW(trainer.policy.trainable_parameters(), lr=1e-2, weight_decay=0.0),
        )
        update_policy(policy, optimizer, rollout, rl, torch.Generator().manual_seed(0))
        after = trainable_state(policy)
        change = max(
            (after[name] - value).abs().max().item() for name, value in start.items() if "value_head" not in name
        )
        with torch.no_grad():
            for name, parameter in policy.named_parameters():
                if name in start:
                    parameter.copy_(start[name])
        return change

    assert moved(0.2) == 0.0  # ratio e > 1.2 with a positive advantage: clipped, no gradient
    assert moved(5.0) > 0.0


@pytest.mark.parametrize(
    "change",
    [{"advantage": "gae"}, {"bootstrap_truncation": False}, {"algorithm": "pg"}, {"value_baseline": False}],
    ids=lambda change: next(iter(change)),
)
def test_each_update_setting_changes_the_update(tmp_path, change):
    # The corridor truncates at the horizon, so the bootstrap matters too (from iteration 2: the value head starts at
    # zero); same seed, two iterations each.
    base = tiny_config(tmp_path, env_id=WALK, env_kwargs={"horizon": 2}, iterations=2, name="base", replay_episodes=0)
    other = dataclasses.replace(base, name="other", rl=dataclasses.replace(base.rl, **change))
    states = []
    for config in (base, other):
        trainer = ReflectRLTrainer(config)
        trainer.train()
        states.append(trainable_state(trainer.policy))
    assert any(not torch.equal(states[0][name], states[1][name]) for name in states[0])


def test_replayed_episodes_enter_the_update(tmp_path, monkeypatch):
    import reflect_agent.ppo

    seen = []
    original = reflect_agent.ppo.update_policy

    def recording(policy, optimizer, rollout, *args, **kwargs):
        seen.append((len(rollout), len(rollout.episodes)))
        return original(policy, optimizer, rollout, *args, **kwargs)

    monkeypatch.setattr(reflect_agent.ppo, "update_policy", recording)
    rows = ReflectRLTrainer(tiny_config(tmp_path, iterations=3)).train()
    for (decisions, episodes), row in zip(seen, rows, strict=True):
        assert episodes == 16 + row["replay/episodes"] and decisions == episodes  # bandit: one decision each
    assert any(row["replay/episodes"] == 2 for row in rows)


def test_a_resume_restores_the_reflectors_draws_and_the_start_weights(tmp_path):
    from reflect_agent.reflector import ReflectorConfig

    reflector = ReflectorConfig(model="tiny", device="cpu", max_new_tokens=3, reflect_prob=0.5, seed=4)
    config = tiny_config(tmp_path, env_id=WALK, iterations=2, use_reflector=True, reflector=reflector, num_envs=4)
    config = dataclasses.replace(config, rl=dataclasses.replace(config.rl, kl_coef=0.5))
    first = ReflectRLTrainer(config)
    first.train()
    expected = trainable_state(first.policy)

    # Built around another policy (as the main job passes its SFT policy in), the checkpoint still decides.
    other = LMPolicy.from_config(config.policy)
    perturb_lora(other, seed=9)
    second = ReflectRLTrainer(dataclasses.replace(config, name="second"), policy=other)
    second.load_checkpoint(tmp_path / "run" / "checkpoints" / "iter_000001")
    assert second.reflector.rng.bit_generator.state != first.reflector.rng.bit_generator.state  # one draw behind
    for name, value in second.start_weights.items():
        torch.testing.assert_close(value, first.start_weights[name], rtol=0, atol=0)
    second.iteration()
    assert second.reflector.rng.bit_generator.state == first.reflector.rng.bit_generator.state
    for name, value in trainable_state(second.policy).items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0, msg=name)


def test_a_shared_reflector_follows_the_policy_a_resume_loads(tmp_path):
    from reflect_agent.reflector import ReflectorConfig

    shared = ReflectorConfig(model=None, max_new_tokens=2)
    config = tiny_config(tmp_path, env_id=WALK, iterations=1, use_reflector=True, reflector=shared, num_envs=2)
    ReflectRLTrainer(config).train()
    resumed = ReflectRLTrainer(dataclasses.replace(config, iterations=2, resume=True))
    assert resumed.reflector.model is resumed.policy.model  # the loaded policy's, not the one built first
    assert resumed.train()[-1]["iteration"] == 2


def test_a_resume_without_the_reflection_cache_ignores_the_saved_one(tmp_path):
    from reflect_agent.reflector import ReflectorConfig

    reflector = ReflectorConfig(model="tiny", device="cpu", max_new_tokens=2)
    config = tiny_config(tmp_path, env_id=WALK, iterations=1, use_reflector=True, reflector=reflector, num_envs=2)
    ReflectRLTrainer(config).train()
    uncached = dataclasses.replace(reflector, cache_entries=0)  # a setting a resume may change
    resumed = ReflectRLTrainer(dataclasses.replace(config, iterations=2, resume=True, reflector=uncached))
    assert resumed.reflector.cache is None and resumed.iteration_count == 1


@pytest.mark.parametrize("name", ["optimizer.pt", "start_policy.pt", "rng.pt"])
def test_a_checkpoint_file_holding_code_is_refused_not_run(tmp_path, name):
    config = tiny_config(tmp_path, iterations=1, num_envs=2)
    ReflectRLTrainer(config).train()
    ran = tmp_path / "ran"
    (tmp_path / "run" / "checkpoints" / "iter_000001" / name).write_bytes(
        pickle.dumps(RunsOnLoad(str(ran)), protocol=2)
    )
    # The only checkpoint is refused (and no older one is left to fall back to).
    with pytest.warns(CheckpointWarning), pytest.raises(CheckpointError, match="UnpicklingError: Weights only load"):
        ReflectRLTrainer(dataclasses.replace(config, resume=True))
    assert not ran.exists()


class RunsOnLoad:
    """An object whose unpickling writes a file: what a tampered checkpoint could do."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def test_changed_settings_are_found_at_every_depth_and_on_either_side():
    saved = {"a": 1, "b": {"c": 2, "d": {"e": 3}}, "gone": 5, "was_dict": {"x": 1}}
    current = {"a": 1, "b": {"c": 4, "d": {"e": 6}}, "new": 7, "was_dict": 8}
    assert changed_settings(saved, current) == [
        ("b.c", 2, 4),
        ("b.d.e", 3, 6),
        ("gone", 5, None),
        ("new", None, 7),
        ("was_dict", {"x": 1}, 8),
    ]


def test_every_refused_setting_is_named(tmp_path):
    config = tiny_config(tmp_path, iterations=1, num_envs=2)
    ReflectRLTrainer(config).train()
    changed = dataclasses.replace(config, resume=True, seed=5, rl=dataclasses.replace(config.rl, gamma=0.5))
    with pytest.raises(ValueError, match=r"other settings \(rl\.gamma: 1\.0 -> 0\.5; seed: 0 -> 5\)\."):
        ReflectRLTrainer(changed)
