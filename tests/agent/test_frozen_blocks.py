"""Keeping the frozen leading blocks' hidden states (reflect_agent.frozen_blocks) and starting after them."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from reflect_agent.config import RLConfig, top_layers_lora_targets
from reflect_agent.frozen_blocks import decoder_blocks, frozen_block_count, recording, resuming
from reflect_agent.policy import LMPolicy, PolicyConfig, causal_lm
from reflect_agent.ppo import ReflectRLTrainer, reference_logprobs, update_policy
from reflect_agent.rollout import score_episodes
from reflect_agent.tensors import PolicyBatch
from tests.agent.conftest import perturb_lora
from tests.agent.toy_envs import stored_episode, tiny_config

STATES = ["You are in a small room with a door to the north.", "A hall.", "A long corridor runs east and west."]
ACTIONS = [["go north", "wait"], ["open the door", "go south", "wait"], ["go east", "go west"]]


def top_block_policy(decider: str = "labels") -> LMPolicy:
    """The tiny model (2 blocks) with LoRA on its last block only: block 0 is frozen."""
    config = PolicyConfig(
        model="tiny", device="cpu", decider=decider, lora_target_modules=top_layers_lora_targets("tiny", 1)
    )
    policy = LMPolicy.from_config(config)
    perturb_lora(policy)
    with torch.no_grad():
        policy.value_head.weight.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(0))
    return policy


def first_block_calls(policy: LMPolicy) -> list[int]:
    """A list that counts the forward passes of ``policy``'s first block from now on."""
    calls: list[int] = []
    _, blocks = decoder_blocks(causal_lm(policy.model).base_model)
    blocks[0].register_forward_hook(lambda *_: calls.append(1))
    return calls


def kept(policy: LMPolicy, batch: PolicyBatch) -> PolicyBatch:
    with torch.no_grad(), policy.keeping_frozen_states(batch) as batches:
        policy(batch)
    assert len(batches) == 1
    return batches[0]


def outputs_and_gradients(policy: LMPolicy, batch: PolicyBatch) -> list[torch.Tensor]:
    policy.zero_grad()
    logprobs, values = policy(batch)
    (logprobs.exp().mul(torch.arange(logprobs.shape[1])).sum() + values.sum()).backward()
    return [logprobs.detach(), values.detach()] + [p.grad.clone() for p in policy.trainable_parameters()]


def test_the_frozen_blocks_are_those_before_the_first_trainable_one():
    assert frozen_block_count(causal_lm(top_block_policy().model)) == 1
    every_block = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    assert frozen_block_count(causal_lm(every_block.model)) == 0
    whole = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", lora=False))
    assert frozen_block_count(causal_lm(whole.model)) == 0  # the embeddings train too
    causal_lm(every_block.model).requires_grad_(False)
    assert frozen_block_count(causal_lm(every_block.model)) == 0  # nothing trains: nothing to skip for


@pytest.mark.parametrize("decider", ["labels", "scoring"])
def test_a_pass_from_the_kept_states_gives_the_full_passes_outputs_and_gradients_without_the_frozen_blocks(decider):
    policy = top_block_policy(decider)
    batch = policy.encode(STATES, ACTIONS, ["Go north.", None, "East is a dead end, so go west."])
    with_states = kept(policy, batch)
    assert with_states.frozen_blocks == 1
    assert with_states.frozen_hidden.shape == (3, batch.width, causal_lm(policy.model).config.hidden_size)
    full = outputs_and_gradients(policy, batch)
    calls = first_block_calls(policy)
    resumed = outputs_and_gradients(policy, with_states)
    assert not calls, "the frozen block ran again"
    for got, want in zip(resumed, full, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    assert len(decoder_blocks(causal_lm(policy.model).base_model)[1]) == 2  # the body has its blocks back


@pytest.mark.parametrize("decider", ["labels", "scoring"])
def test_kept_states_follow_their_rows_through_cat_and_indexing(decider):
    policy = top_block_policy(decider)
    first = kept(policy, policy.encode(STATES[:1], ACTIONS[:1], ["Go north."]))
    second = kept(policy, policy.encode(STATES[1:], ACTIONS[1:], [None, "East is a dead end, so go west."]))
    both = PolicyBatch.cat([first, second])
    assert both.frozen_blocks == 1 and both.frozen_hidden.shape[:2] == (3, both.width)
    plain = dataclasses.replace(both, frozen_hidden=None, frozen_blocks=0)
    for rows in (torch.tensor([2, 0]), torch.tensor([1]), slice(0, 3)):
        with torch.no_grad():
            got, want = policy(both[rows]), policy(plain[rows])
        for g, w in zip(got, want, strict=True):
            torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-5)
    # A batch without kept states makes the whole concatenation run every block.
    mixed = PolicyBatch.cat([first, policy.encode(STATES[1:2], ACTIONS[1:2])])
    assert mixed.frozen_hidden is None and mixed.frozen_blocks == 0


def test_a_batch_and_its_kept_states_must_agree():
    policy = top_block_policy()
    batch = kept(policy, policy.encode(STATES, ACTIONS))
    with pytest.raises(ValueError, match="frozen_hidden has shape"):
        dataclasses.replace(batch, frozen_hidden=batch.frozen_hidden[:, 1:])
    with pytest.raises(ValueError, match="both frozen_hidden and a positive frozen_blocks"):
        dataclasses.replace(batch, frozen_blocks=0)
    lm = causal_lm(policy.model)
    with pytest.raises(ValueError, match="count must be between 1 and 1"), resuming(lm, 2, batch.frozen_hidden):
        pass
    with pytest.raises(ValueError, match="count must be between"), recording(lm, 0):
        pass
    one_row = batch[torch.tensor([0])]
    with pytest.raises(RuntimeError, match="one forward pass of its batch"), policy.keeping_frozen_states(batch):
        policy(one_row)


def test_the_update_and_the_start_policys_log_probabilities_from_kept_states_match_the_full_ones():
    policy = top_block_policy()
    episodes = [
        stored_episode(1, ["A room.", "A hall.", "A door."], [-0.1, -0.1, 1.0], chosen=[0, 1, 0]),
        stored_episode(1, ["A room.", "A pit."], [-0.1, -1.0], chosen=[1, 0]),
        stored_episode(2, ["A yard.", "A gate."], [0.0, 0.5], chosen=[1, 1]),
        stored_episode(2, ["A yard."], [0.0], chosen=[0]),
    ]
    plain = score_episodes(policy, episodes, chunk=3)
    with_states = score_episodes(policy, episodes, chunk=3, keep_frozen=True)
    assert plain.batch.frozen_hidden is None and with_states.batch.frozen_blocks == 1
    torch.testing.assert_close(with_states.logprobs, plain.logprobs)
    start = {name: p.detach() + 0.1 for name, p in policy.named_parameters() if p.requires_grad}
    torch.testing.assert_close(
        reference_logprobs(policy, start, with_states, chunk=2), reference_logprobs(policy, start, plain, chunk=2)
    )
    config = RLConfig(advantage="grpo", update_epochs=2, minibatch_size=4, micro_batch_size=2, ent_coef=0.0)
    trained = []
    for rollout in (plain, with_states):
        copy_ = copy.deepcopy(policy)
        optimizer = torch.optim.SGD(copy_.trainable_parameters(), lr=0.05)
        calls = first_block_calls(copy_)
        update_policy(copy_, optimizer, rollout, config, torch.Generator().manual_seed(0))
        assert bool(calls) == (rollout is plain)
        trained.append(copy_.trainable_parameters())
    for got, want in zip(*trained, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_rl_iterations_keep_the_frozen_states_only_when_asked(tmp_path, monkeypatch):
    seen: list[PolicyBatch] = []
    real_update = update_policy

    def spy(policy, optimizer, rollout, *args, **kwargs):
        seen.append(rollout.batch)
        return real_update(policy, optimizer, rollout, *args, **kwargs)

    monkeypatch.setattr("reflect_agent.ppo.update_policy", spy)
    lora = PolicyConfig(
        model="tiny", device="cpu", temperature=0.2, lora_target_modules=top_layers_lora_targets("tiny", 1)
    )
    for keep in (True, False):
        config = tiny_config(tmp_path / str(keep), iterations=1, num_envs=4, policy=lora)
        config.rl.keep_frozen_activations = keep
        trainer = ReflectRLTrainer(config)
        trainer.train()
        trainer.close()
        assert (seen[-1].frozen_blocks, seen[-1].frozen_hidden is not None) == ((1, True) if keep else (0, False))
