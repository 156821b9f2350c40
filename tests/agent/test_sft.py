"""Supervised warm-up: completion-only examples, the policy objective, checkpointing, resume."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from reflect_agent import presets
from reflect_agent.checkpoint import CheckpointWarning
from reflect_agent.config import top_layers_lora_targets
from reflect_agent.deciders import CandidateScoringDecider
from reflect_agent.evaluation import evaluate
from reflect_agent.frozen_blocks import decoder_blocks, dropout_free, frozen_block_count
from reflect_agent.pipeline import policy_settings, reflector_settings
from reflect_agent.policy import LMPolicy, PolicyConfig, causal_lm
from reflect_agent.sft import (
    CompletionOnlyTrainer,
    FrozenActivations,
    SFTConfig,
    SFTResult,
    check_resumable,
    last_complete_checkpoint,
    sft_policy,
    summary,
    train_completions,
    trained_settings,
)
from reflect_agent.sft_examples import (
    IGNORE_INDEX,
    CompletionCollator,
    choice_examples,
    collate_choices,
    policy_examples,
    reflector_examples,
)
from reflect_agent.warmup import expert_records
from tests.agent.toy_envs import BANDIT, trainable_state


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


def halve(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


SFT_DAMAGES = {
    "state half-written": ("trainer_state.json", halve),
    "state garbage": ("trainer_state.json", lambda path: path.write_text("[1, 2]")),
    "optimizer truncated": ("optimizer.pt", halve),
    "adapter truncated": ("adapter_model.safetensors", halve),
    "random states garbage": ("rng_state.pth", lambda path: path.write_bytes(b"garbage")),
}


@pytest.mark.parametrize("damage", SFT_DAMAGES)
def test_an_sft_resumes_past_a_damaged_newest_checkpoint_from_the_one_before(tmp_path, monkeypatch, damage):
    records = expert_records(BANDIT, range(16), perturb_prob=0.0)
    config = SFTConfig(max_steps=6, batch_size=4, learning_rate=1e-2, logging_steps=1, save_steps=2)
    training_step = CompletionOnlyTrainer.training_step

    def interrupted_at_step_5(self, *args, **kwargs):
        if self.state.global_step == 5:
            raise KeyboardInterrupt
        return training_step(self, *args, **kwargs)

    def policy() -> LMPolicy:
        torch.manual_seed(0)
        return LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))

    monkeypatch.setattr(CompletionOnlyTrainer, "training_step", interrupted_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        sft_policy(policy(), records, config, checkpoint_dir=tmp_path, progress=False)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    name, damages = SFT_DAMAGES[damage]
    damages(tmp_path / "checkpoint-4" / name)

    with pytest.warns(CheckpointWarning, match="checkpoint-4 is damaged"):
        assert last_complete_checkpoint(tmp_path).name == "checkpoint-2"
    with pytest.warns(CheckpointWarning):
        result = sft_policy(policy(), records, config, checkpoint_dir=tmp_path, progress=False)
    assert result.resumed_from == 2 and result.steps == 6


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


def test_label_smoothing_leaves_the_cloned_policy_some_entropy():
    records = expert_records(BANDIT, range(16), perturb_prob=0.0)
    states, actions = [r.state for r in records[:4]], [r.actions for r in records[:4]]
    entropies = []
    for smoothing in (0.0, 0.3):
        torch.manual_seed(0)
        policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", temperature=0.2))
        config = SFTConfig(
            max_steps=30, batch_size=8, learning_rate=3e-2, objective="policy", label_smoothing=smoothing
        )
        sft_policy(policy, records, config, progress=False)
        with torch.no_grad():
            _, _, entropy, _ = policy.get_action_and_value(policy.encode(states, actions), greedy=True)
        assert policy.act(states, actions, greedy=True) == [2, 2, 2, 2]  # the expert's action still comes first
        entropies.append(float(entropy.mean()))
    # Four actions: smoothing 0.3 targets 0.775 on the expert's and 0.075 on each other (entropy about 0.77 nats).
    assert entropies[0] < 0.2 < 0.5 < entropies[1]
    with pytest.raises(ValueError, match="label_smoothing"):
        SFTConfig(label_smoothing=1.0)


def top_block_policy(decider: str = "labels") -> LMPolicy:
    """The tiny model (2 blocks) with LoRA on its last block only: block 0 is frozen."""
    torch.manual_seed(0)  # the same LoRA initialisation each time
    targets = top_layers_lora_targets("tiny", 1)
    return LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", decider=decider, lora_target_modules=targets))


def first_block_passes(policy: LMPolicy) -> list[int]:
    """A list that grows by one with each forward pass of ``policy``'s first block from now on."""
    passes: list[int] = []
    _, blocks = decoder_blocks(causal_lm(policy.model).base_model)
    blocks[0].register_forward_hook(lambda *_: passes.append(1))
    return passes


@pytest.mark.parametrize("objective", ["completion", "policy-labels", "policy-scoring"])
def test_later_passes_start_from_the_frozen_blocks_kept_states_and_train_the_same(objective, monkeypatch):
    records = expert_records("ReflectRL/DangerousTaxi-Pickup-v0", range(2), perturb_prob=0.5)[:8]
    stores: list[FrozenActivations] = []
    make = FrozenActivations.for_run
    monkeypatch.setattr(
        FrozenActivations, "for_run", lambda *args, **kwargs: stores.append(make(*args, **kwargs)) or stores[-1]
    )
    trained, passes = [], []
    for gib in (0.0, 1.0, "half"):
        if gib == "half":  # room for about half of the examples' states: batches of kept and unkept examples
            gib = stores[1].nbytes / 2 / 2**30
        policy = top_block_policy("scoring" if objective == "policy-scoring" else "labels")
        seen = first_block_passes(policy)
        config = SFTConfig(
            epochs=3,
            batch_size=4,
            learning_rate=1e-2,
            reflection_prob=0.5,  # prompts of different lengths: left padding differs from batch to batch
            objective="completion" if objective == "completion" else "policy",
            frozen_activations_gib=gib,
        )
        result = sft_policy(policy, records, config, progress=False)
        assert result.steps == 6
        trained.append(trainable_state(policy))
        passes.append(len(seen))
    assert passes[:2] == [6, 2]  # kept: the frozen block runs in the first pass over the 8 examples only
    assert stores[0] is None and 0 < stores[2].nbytes <= stores[2].max_bytes < stores[1].nbytes
    assert 0 < len(stores[2]._kept) < 8 and passes[2] >= 4  # a batch runs every block unless all of it is kept
    for name, weights in trained[0].items():
        torch.testing.assert_close(trained[1][name], weights, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(trained[2][name], weights, rtol=1e-4, atol=1e-6)
    assert any(
        not torch.equal(trained[1][name], weights) for name, weights in trainable_state(top_block_policy()).items()
    )


def test_frozen_activations_are_kept_only_where_they_stand_for_later_passes():
    policy = top_block_policy()
    twice = SFTConfig(epochs=2)
    store = FrozenActivations.for_run(policy.model, twice, examples=16)
    assert store is not None and store.count == 1 and store.max_bytes == 2 * 2**30
    assert FrozenActivations.for_run(policy.model, SFTConfig(max_steps=5, batch_size=4), examples=16) is not None
    never = [
        (policy.model, SFTConfig(epochs=1)),  # no example is trained on twice
        (policy.model, SFTConfig(max_steps=4, batch_size=4)),
        (policy.model, SFTConfig(epochs=2, frozen_activations_gib=0)),
        (policy.model, SFTConfig(epochs=2, gradient_checkpointing=True)),  # its recomputation runs the skipped input
        (LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu")).model, twice),  # LoRA on every block
    ]
    for model, config in never:
        assert FrozenActivations.for_run(model, config, examples=16) is None
    gpt2 = LMPolicy.from_config(
        PolicyConfig(model="gpt2-random", device="cpu", lora_target_modules=top_layers_lora_targets("gpt2-random", 1))
    )
    lm = causal_lm(gpt2.model)
    assert frozen_block_count(lm) > 0 and not dropout_free(lm, frozen_block_count(lm))  # GPT-2's dropout
    assert FrozenActivations.for_run(gpt2.model, twice, examples=16) is None
    assert dropout_free(causal_lm(policy.model), 1)

    store = FrozenActivations(count=1, max_bytes=100)
    store.put(0, "a", 60)
    store.put(1, "b", 60)  # past the budget: not kept
    store.put(2, "c", 40)
    assert store.nbytes == 100 and store.get([0, 2]) == ["a", "c"] and store.get([0, 1]) is None
    assert store.batches_resumed == 1
    with pytest.raises(ValueError, match="frozen_activations_gib"):
        SFTConfig(frozen_activations_gib=-1)


def test_the_kept_activations_budget_is_a_speed_setting_only(tmp_path):
    records = expert_records(BANDIT, range(4), perturb_prob=0.0)
    examples = policy_examples(top_block_policy(), records)
    check_resumable(tmp_path, examples, SFTConfig(frozen_activations_gib=2.0))
    check_resumable(tmp_path, examples, SFTConfig(frozen_activations_gib=0.0))  # resumes: the same training
    assert "frozen_activations_gib" not in trained_settings(SFTConfig())
    # What a warmed-up player depends on: records written before the setting existed still match.
    config = presets.cpu()
    assert "frozen_activations_gib" not in reflector_settings(config)["sft"]
    assert "frozen_activations_gib" not in policy_settings(config)["sft"]
    with pytest.raises(ValueError, match="learning_rate"):
        check_resumable(tmp_path, examples, SFTConfig(learning_rate=1.0))
