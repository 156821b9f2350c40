"""The trainer end to end on a tiny model and a tiny task, and its parts: rollouts, checkpoints, resume,
curriculum, replay, metrics, SFT examples, and errors on NaN losses."""

from __future__ import annotations

import dataclasses
import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from reflect_agent.checkpoint import CheckpointManager, rng_state, set_rng_state
from reflect_agent.cli.sft import SFTArgs
from reflect_agent.cli.sft import run as sft_main
from reflect_agent.config import RLConfig, TrainConfig, evaluation_kwargs, top_layers_lora_targets
from reflect_agent.curriculum import CURRICULA, Curriculum, CurriculumConfig
from reflect_agent.deciders import CandidateScoringDecider
from reflect_agent.episodes import Episode, make_envs
from reflect_agent.evaluation import evaluate
from reflect_agent.metrics import MetricsLogger
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.ppo import NonFiniteLossError, ReflectRLTrainer, update_policy
from reflect_agent.replay import SuccessReplay
from reflect_agent.rollout import collect_rollout, score_episodes
from reflect_agent.sft import (
    CompletionOnlyTrainer,
    SFTConfig,
    SFTResult,
    last_complete_checkpoint,
    sft_policy,
    summary,
    train_completions,
)
from reflect_agent.sft_examples import (
    IGNORE_INDEX,
    CompletionCollator,
    choice_examples,
    collate_choices,
    policy_examples,
    reflector_examples,
)
from reflect_agent.stats import wilson_interval
from reflect_agent.warmup import expert_records, read_jsonl, write_jsonl
from reflect_gym.core import TextEnv
from reflect_gym.files import atomic_directory

BANDIT = "ReflectRLTest/ColorBandit-v0"
WALK = "ReflectRLTest/Corridor-v0"


class ColorBandit(TextEnv):
    """One decision: the blue card wins (reward 1), any other card loses (reward 0); both end the episode."""

    COLORS = ("red", "green", "blue", "yellow")

    def __init__(self, horizon: int = 1, render_mode: str | None = None):
        super().__init__(max_actions=4, max_length=200, horizon=horizon, render_mode=render_mode)

    def _reset_state(self, options):
        pass

    def _admissible_actions(self):
        return list(self.COLORS)

    def _state_text(self):
        return "Pick the blue card."

    def _apply(self, index):
        return (1.0, True, True) if index == 2 else (0.0, True, False)

    def expert_action(self):
        return 2


class Corridor(TextEnv):
    """Walk right ``length`` cells to win; left is a wall that ends the episode; truncated at the horizon."""

    def __init__(self, length: int = 3, horizon: int = 2, render_mode: str | None = None):
        super().__init__(max_actions=3, max_length=200, horizon=horizon, render_mode=render_mode)
        self.length = length
        self.position = 0

    def _reset_state(self, options):
        self.position = 0

    def _admissible_actions(self):
        return ["step right", "wait", "step left"]

    def _state_text(self):
        return f"You are {self.length - self.position} steps from the exit."

    def _apply(self, index):
        if index == 2:
            return -1.0, True, False
        self.position += index == 0
        won = self.position == self.length
        return (1.0 if won else -0.1), won, won

    def expert_action(self):
        return 0


for env_id, entry_point in ((BANDIT, ColorBandit), (WALK, Corridor)):
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=entry_point)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from threads, and on a busy CPU extra threads slow every step many times over."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_config(tmp_path, **overrides) -> TrainConfig:
    config = TrainConfig(
        name="run",
        output_dir=str(tmp_path),
        env_id=BANDIT,
        num_envs=16,
        iterations=4,
        seed=0,
        use_reflector=False,
        # A low temperature widens the tiny model's narrow logit range (its frozen embeddings are small).
        policy=PolicyConfig(model="tiny", device="cpu", temperature=0.2),
        rl=RLConfig(learning_rate=1e-2, minibatch_size=8, micro_batch_size=4, update_epochs=4, ent_coef=0.0),
        replay_capacity=10,
        replay_episodes=2,
        checkpoint_every=1,
        keep_checkpoints=5,
        progress=False,
    )
    return dataclasses.replace(config, **overrides)


def trainable_state(policy: LMPolicy) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in policy.named_parameters() if p.requires_grad}


# --------------------------------------------------------------------------------------------------
# End to end.


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


# --------------------------------------------------------------------------------------------------
# Rollouts.


def test_rollout_layout_and_truncation_bootstrap():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    with torch.no_grad():
        policy.value_head.bias.fill_(1.0)  # every value estimate is 1
    envs = make_envs(WALK, 6, env_kwargs={"horizon": 2})
    torch.manual_seed(0)
    rollout = collect_rollout(envs, policy, None, list(range(6)))
    envs.close()
    assert rollout.rewards.shape == (2, 6) and len(rollout) == sum(len(e) for e in rollout.episodes)
    for column, episode in enumerate(rollout.episodes):
        length = len(episode)
        assert rollout.dones[length - 1, column] and not rollout.dones[: length - 1, column].any()
        assert rollout.rewards[:length, column].tolist() == pytest.approx(episode.rewards)
        hit_wall = episode.chosen[-1] == 2
        assert bool(rollout.terminations[length - 1, column]) == (hit_wall or episode.success)
        truncated = not rollout.terminations[length - 1, column]
        # Only a truncated episode gets the value of its last observation, at its last step.
        expected = torch.zeros(2)
        expected[length - 1] = 1.0 if truncated else 0.0
        torch.testing.assert_close(rollout.final_values[:, column], expected)
    assert rollout.grid(rollout.actions).dtype == torch.long
    torch.testing.assert_close(rollout.flat(rollout.grid(rollout.logprobs)), rollout.logprobs)
    assert any(not rollout.terminations[len(e) - 1, c] for c, e in enumerate(rollout.episodes)), "no truncation seen"


def test_rollouts_penalise_the_episodes_own_repeats_and_replays_score_them_alike():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))

    def rollout(penalty: float):
        policy.config.repeat_penalty = penalty
        envs = make_envs(WALK, 4, env_kwargs={"horizon": 3, "length": 5})
        try:
            return collect_rollout(envs, policy, None, list(range(4)), greedy=True)
        finally:
            envs.close()

    def repeats(episode: Episode) -> bool:
        return len(set(episode.chosen)) < len(episode.chosen)

    assert any(repeats(e) for e in rollout(0.0).episodes), "the tiny model repeats itself unpenalised"
    penalised = rollout(100.0)
    assert not any(repeats(e) for e in penalised.episodes)
    for row, (step, column) in enumerate(zip(penalised.steps.tolist(), penalised.columns.tolist(), strict=True)):
        episode = penalised.episodes[column]
        taken = episode.taken(step)
        assert penalised.batch.repeats[row, :3].tolist() == [taken.count(a) for a in episode.actions[step]]
    # A replayed episode is scored with its own past actions, so PPO ratios start at one as for fresh ones.
    replayed = score_episodes(policy, penalised.episodes)

    def by_decision(r) -> dict[tuple[int, int], float]:
        return dict(zip(zip(r.columns.tolist(), r.steps.tolist(), strict=True), r.logprobs.tolist(), strict=True))

    assert by_decision(replayed) == pytest.approx(by_decision(penalised), abs=1e-5)


def test_sync_and_async_vector_envs_give_the_same_rollout():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    outcomes = []
    for mode in ("sync", "async"):
        envs = make_envs("ReflectRL/DangerousTaxi-Dropoff-v0", 3, vectorization=mode)
        torch.manual_seed(0)
        rollout = collect_rollout(envs, policy, None, [5, 6, 7])
        envs.close()
        outcomes.append((rollout.actions.tolist(), rollout.rewards.tolist(), [e.states for e in rollout.episodes]))
    assert outcomes[0] == outcomes[1]


def test_rollout_with_reflector_passes_the_last_action():
    seen: list[list[str]] = []

    class RecordingReflector:
        def reflect(self, states, actions):
            seen.append(states)
            return ["Go right." for _ in states]

    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    envs = make_envs(WALK, 2, env_kwargs={"horizon": 3})
    rollout = collect_rollout(envs, policy, RecordingReflector(), [0, 1])
    envs.close()
    assert all("Last action" not in s for s in seen[0])
    for step_states in seen[1:]:
        assert all("\nLast action: " in s for s in step_states)
    assert {r for e in rollout.episodes for r in e.reflections} == {"Go right."}


# --------------------------------------------------------------------------------------------------
# Parts.


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


def test_replay_keeps_the_latest_successes():
    replay = SuccessReplay(capacity=3)

    def episode(tag: int, success: bool) -> Episode:
        return Episode([f"s{tag}"], [["a", "b"]], [None], [1], [1.0 if success else 0.0], True, success)

    kept = [replay.add(episode(i, success=i % 2 == 0)) for i in range(8)]
    assert kept == [True, False] * 4 and len(replay) == 3
    assert [e.states[0] for e in replay.sample(3, np.random.default_rng(0))] == ["s2", "s4", "s6"]
    copy = SuccessReplay(capacity=3)
    copy.load_state_dict(json.loads(json.dumps(replay.state_dict())))
    assert copy.state_dict() == replay.state_dict()
    assert SuccessReplay(capacity=0).add(episode(0, True)) is False


def test_checkpoint_directories_are_atomic_and_pruned(tmp_path):
    manager = CheckpointManager(tmp_path / "ckpt", keep=2)
    for iteration in (1, 2, 3):
        manager.save(iteration, lambda folder, i=iteration: (folder / "value.txt").write_text(str(i)))
    assert [p.name for p in manager.checkpoints()] == ["iter_000002", "iter_000003"]
    assert manager.latest().name == "iter_000003"

    def fail(folder):
        (folder / "partial.txt").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        manager.save(4, fail)
    assert manager.latest().name == "iter_000003" and not (tmp_path / "ckpt" / "iter_000004").exists()
    assert not [p for p in (tmp_path / "ckpt").iterdir() if p.name.endswith(".tmp")]
    with atomic_directory(tmp_path / "ckpt" / "iter_000003") as folder:  # replacing an existing folder
        (folder / "value.txt").write_text("new")
    assert (tmp_path / "ckpt" / "iter_000003" / "value.txt").read_text() == "new"


def test_rng_state_round_trip():
    generator = np.random.default_rng(5)
    state = rng_state(generator)
    first = (np.random.default_rng(0).random(), generator.random(), torch.rand(2))
    set_rng_state(state, generator)
    assert generator.random() == first[1]
    assert torch.equal(torch.rand(2), first[2])


def test_metrics_logger_writes_rows_and_drops_them_after_a_resume_point(tmp_path):
    path = tmp_path / "metrics.jsonl"
    logger = MetricsLogger(path, total=3, progress=False)
    for i in (1, 2, 3):
        logger.log(i, {"env/success_rate": i / 4, "losses/pg_loss": torch.tensor(0.5)})
    logger.plot(tmp_path / "curve.png")
    logger.close()
    assert [json.loads(line)["env/success_rate"] for line in path.read_text().splitlines()] == [0.25, 0.5, 0.75]
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    resumed = MetricsLogger(path, total=3, start=2, progress=False)
    assert [row["iteration"] for row in resumed.rows] == [1, 2]


def test_sft_examples_train_on_the_completion_only():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    records = expert_records("ReflectRL/DangerousTaxi-Pickup-v0", range(2), perturb_prob=0.0)
    examples = policy_examples(policy, records, reflection_prob=1.0)
    batch = policy.encode([records[0].state], [records[0].actions], [records[0].reflection])
    first = examples[0]
    assert first["input_ids"][:-1] == batch.input_ids[0].tolist()  # the policy's own prompt tokens
    assert first["input_ids"][-1] == policy.label_token_ids[records[0].expert_action]
    assert set(first["labels"][:-1]) == {IGNORE_INDEX} and first["labels"][-1] == first["input_ids"][-1]

    reflector = reflector_examples(policy.tokenizer, policy.template, records[:1])[0]
    completion = [t for t in reflector["labels"] if t != IGNORE_INDEX]
    assert completion[-1] == policy.tokenizer.eos_token_id
    assert policy.tokenizer.decode(completion[:-1]).strip() == records[0].reflection
    prompt_length = reflector["labels"].index(completion[0])
    assert policy.tokenizer.decode(reflector["input_ids"][:prompt_length]).endswith("Analysis:")


def test_sft_lowers_the_loss_of_the_expert_labels():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", temperature=0.2))
    records = expert_records(BANDIT, range(16), perturb_prob=0.0)
    before = policy.act([r.state for r in records[:4]], [r.actions for r in records[:4]], greedy=True)
    result = sft_policy(
        policy, records, SFTConfig(max_steps=8, batch_size=8, learning_rate=1e-2, logging_steps=1), progress=False
    )
    assert np.isfinite(result.train_loss) and result.steps == 8
    assert result.losses[-1] < result.losses[0]
    after = policy.act([r.state for r in records[:4]], [r.actions for r in records[:4]], greedy=True)
    assert after == [2, 2, 2, 2], (before, after)


def test_sft_with_gradient_checkpointing_trains_the_same_weights_and_leaves_it_off():
    records = expert_records(BANDIT, range(8), perturb_prob=0.0)
    trained = []
    for checkpointing in (False, True):
        torch.manual_seed(0)  # the same LoRA initialisation each time
        policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
        initial = trainable_state(policy)
        config = SFTConfig(max_steps=3, batch_size=4, learning_rate=1e-2, gradient_checkpointing=checkpointing)
        sft_policy(policy, records, config, progress=False)
        assert not any(getattr(module, "gradient_checkpointing", False) for module in policy.model.modules())
        trained.append(trainable_state(policy))
        assert any(not torch.equal(trained[-1][name], initial[name]) for name in initial)
    for name, weights in trained[0].items():
        torch.testing.assert_close(trained[1][name], weights, rtol=1e-4, atol=1e-6)


def test_sft_grouped_by_length_pads_less(monkeypatch):
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    records = expert_records("ReflectRL/DangerousTaxi-Pickup-v0", range(8), perturb_prob=0.5)
    examples = policy_examples(policy, records, reflection_prob=0.5)  # prompts with and without analyses
    assert len({len(e["input_ids"]) for e in examples}) > 4

    def padding_share(group_by_length: bool) -> float:
        padded = []
        collate = CompletionCollator.__call__

        def spy(self, batch):
            padded.append(
                (sum(len(e["input_ids"]) for e in batch), len(batch) * max(len(e["input_ids"]) for e in batch))
            )
            return collate(self, batch)

        monkeypatch.setattr(CompletionCollator, "__call__", spy)
        config = SFTConfig(max_steps=4, batch_size=4, group_by_length=group_by_length)
        train_completions(policy.model, policy.tokenizer, examples, config, progress=False)
        monkeypatch.undo()
        return 1 - sum(real for real, _ in padded) / sum(total for _, total in padded)

    grouped, uniform = padding_share(True), padding_share(False)
    assert grouped < uniform, (grouped, uniform)


def test_an_interrupted_sft_resumes_from_its_last_complete_checkpoint(tmp_path, monkeypatch):
    records = expert_records(BANDIT, range(16), perturb_prob=0.0)
    config = SFTConfig(max_steps=6, batch_size=4, learning_rate=1e-2, logging_steps=1, save_steps=2)

    def trained(checkpoint_dir=None) -> tuple[LMPolicy, SFTResult]:
        torch.manual_seed(0)  # the same LoRA initialisation each time
        policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
        return policy, sft_policy(policy, records, config, checkpoint_dir=checkpoint_dir, progress=False)

    reference, whole = trained()
    assert whole.resumed_from == 0

    training_step = CompletionOnlyTrainer.training_step

    def interrupted_at_step_3(self, *args, **kwargs):
        if self.state.global_step == 3:
            raise KeyboardInterrupt
        return training_step(self, *args, **kwargs)

    monkeypatch.setattr(CompletionOnlyTrainer, "training_step", interrupted_at_step_3)
    with pytest.raises(KeyboardInterrupt):
        trained(tmp_path)
    monkeypatch.undo()
    assert last_complete_checkpoint(tmp_path).name == "checkpoint-2"
    (tmp_path / "checkpoint-4").mkdir()  # cut off while saving: no trainer state, so it is skipped
    assert last_complete_checkpoint(tmp_path).name == "checkpoint-2"

    resumed, result = trained(tmp_path)
    assert result.resumed_from == 2 and result.steps == 6
    assert result.losses == pytest.approx(whole.losses, rel=1e-4)  # the same data, order and updates
    expected = dict(reference.model.named_parameters())
    for name, param in resumed.model.named_parameters():
        if param.requires_grad:
            torch.testing.assert_close(param, expected[name], rtol=1e-4, atol=1e-6)
    assert "resumed at step 2" in summary(result)
    with pytest.raises(ValueError, match="other learning_rate. Run with the same"):
        sft_policy(resumed, records, dataclasses.replace(config, learning_rate=1e-3), checkpoint_dir=tmp_path)


def test_the_sft_command_trains_on_from_a_saved_policy_and_keeps_its_settings(tmp_path):
    torch.manual_seed(0)
    start = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", decider="scoring", temperature=0.3))
    start.save(tmp_path / "start")
    data = write_jsonl(expert_records(BANDIT, range(16), perturb_prob=0.0), tmp_path / "data.jsonl")
    sft = SFTConfig(max_steps=6, batch_size=8, learning_rate=1e-2, objective="policy")
    sft_main(SFTArgs(data=str(data), out=str(tmp_path / "after"), sft=sft, init_policy=str(tmp_path / "start")))

    after = LMPolicy.load(tmp_path / "after", trainable=False)
    assert after.config.decider == "scoring" and after.config.temperature == 0.3
    records = read_jsonl(data)[:4]
    assert after.act([r.state for r in records], [r.actions for r in records], greedy=True) == [2, 2, 2, 2]
    with pytest.raises(ValueError, match="takes --role policy"):
        SFTArgs(data=str(data), role="reflector", init_policy=str(tmp_path / "start"))


def test_a_scoring_policy_learns_the_action_text_by_sft():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", temperature=0.2, decider="scoring"))
    records = expert_records(BANDIT, range(16), perturb_prob=0.0)
    completion = [t for t in policy_examples(policy, records[:1])[0]["labels"] if t != IGNORE_INDEX]
    assert policy.tokenizer.decode(completion) == " blue"  # the action's text, not its label
    result = sft_policy(
        policy, records, SFTConfig(max_steps=8, batch_size=8, learning_rate=1e-2, logging_steps=1), progress=False
    )
    assert result.losses[-1] < result.losses[0]
    states, actions = [r.state for r in records[:4]], [r.actions for r in records[:4]]
    scorer = CandidateScoringDecider(policy)
    assert policy.act(states, actions, greedy=True) == scorer.act(states, actions, greedy=True) == [2, 2, 2, 2]
    assert evaluate(policy, None, BANDIT, range(4), num_envs=2).successes == 4


@pytest.mark.parametrize("decider", ["labels", "scoring"])
def test_the_policy_objective_clones_the_expert_under_the_policys_own_distribution(decider):
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", temperature=0.2, decider=decider))
    records = expert_records(BANDIT, range(16), perturb_prob=0.0)
    examples = choice_examples(policy, records[:2])
    batch = collate_choices(examples)["batch"]
    assert batch.has_candidates == (decider == "scoring") and examples[0]["action"] == 2
    states, actions = [r.state for r in records[:4]], [r.actions for r in records[:4]]

    def expert_logprob() -> float:
        with torch.no_grad():
            return float(policy(policy.encode(states, actions))[0][:, 2].mean())

    before = expert_logprob()
    config = SFTConfig(max_steps=8, batch_size=8, learning_rate=1e-2, logging_steps=1, objective="policy")
    result = sft_policy(policy, records, config, progress=False)
    assert result.steps == 8 and result.losses[0] == pytest.approx(-before, abs=0.3)  # the policy's own NLL
    assert result.losses[-1] < result.losses[0] and expert_logprob() > before
    assert policy.act(states, actions, greedy=True) == [2, 2, 2, 2]
    with pytest.raises(ValueError, match="objective must be"):
        SFTConfig(objective="contrastive")


def test_a_scoring_policy_learns_the_tiny_task_online(tmp_path):
    policy = PolicyConfig(model="tiny", device="cpu", temperature=0.2, decider="scoring")
    trainer = ReflectRLTrainer(tiny_config(tmp_path, policy=policy, iterations=5))
    rows = trainer.train()
    success = [row["env/success_rate"] for row in rows]
    assert success[0] < 0.5 and np.mean(success[-2:]) >= 0.8, success
    assert all(np.isfinite(row["losses/pg_loss"]) for row in rows)
    assert trainer.evaluate(8).success_rate == 1.0


def test_top_layers_lora_targets_adapt_only_the_last_blocks():
    targets = top_layers_lora_targets("tiny", 1)
    assert targets and all(".layers.1." in name for name in targets)
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", lora_target_modules=targets))
    adapted = {name for name, p in policy.model.named_parameters() if p.requires_grad}
    assert adapted and all(".layers.1." in name for name in adapted)


def test_config_errors_name_the_fix():
    with pytest.raises(ValueError, match="micro_batch_size"):
        RLConfig(minibatch_size=4, micro_batch_size=8)
    with pytest.raises(ValueError, match="algorithm"):
        RLConfig(algorithm="a2c")
    with pytest.raises(ValueError, match="replay_capacity"):
        TrainConfig(replay_capacity=-1)
    with pytest.raises(ValueError, match="decider must be 'labels' or 'scoring'"):
        PolicyConfig(decider="logits")


def test_evaluation_plays_without_dropout_and_keeps_the_policys_mode():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", lora_dropout=0.5))
    policy.train()
    modes = []
    for module in policy.modules():
        if isinstance(module, torch.nn.Dropout):  # LoRA's
            module.register_forward_pre_hook(lambda dropout, args: modes.append(dropout.training))
    evaluate(policy, None, BANDIT, range(2), num_envs=2)
    assert modes and not any(modes)
    assert all(module.training for module in policy.modules())


def test_wilson_interval():
    low, high = wilson_interval(0, 40)
    assert low == 0 and 0.08 < high < 0.09
    assert wilson_interval(20, 40)[0] < 0.5 < wilson_interval(20, 40)[1]


def test_evaluation_arguments_update_the_training_ones_and_none_drops_one():
    train = {"tasks": "named.jsonl", "leaveout_prob": 0.5}
    assert evaluation_kwargs(train, {"tasks": None, "split": "test", "leaveout_prob": 0.0}) == {
        "split": "test",
        "leaveout_prob": 0.0,
    }
    config = TrainConfig(env_kwargs=train, eval_env_kwargs={"tasks": None}, horizon=4)
    assert config.make_kwargs() == {**train, "horizon": 4}
    assert config.make_kwargs(evaluation=True) == {"leaveout_prob": 0.5, "horizon": 4}


def test_the_sft_command_refuses_an_out_folder_it_did_not_write_before_training(tmp_path, monkeypatch):
    import reflect_agent.cli.sft as command
    from reflect_gym.files import ForeignPathError

    users = tmp_path / "mine"
    users.mkdir()
    (users / "notes.txt").write_text("keep me")
    data = write_jsonl(expert_records(BANDIT, range(2), perturb_prob=0.0), tmp_path / "data.jsonl")
    monkeypatch.setattr(command, "sft_policy", lambda *args, **kwargs: pytest.fail("trained before checking --out"))
    with pytest.raises(ForeignPathError, match="--overwrite"):
        sft_main(SFTArgs(data=str(data), model="tiny", out=str(users)))
    assert (users / "notes.txt").read_text() == "keep me"
