"""Scoring heads: candidate attention and positions, and scores equal to scoring each candidate alone."""

from __future__ import annotations

import pytest
import torch

from reflect_agent.deciders import CandidateScoringDecider
from reflect_agent.policy import LMPolicy, PolicyConfig, causal_lm
from reflect_agent.scoring import candidate_attention, offsets_within_candidates

STATES = ["You are in the kitchen. A fridge is here.", "A long corridor. " * 6 + "You see a door."]
ACTIONS = [["go north", "open the fridge"], ["go east", "go west", "open door", "look around the corridor"]]


def reference_scores(policy: LMPolicy, state: str, actions: list[str]) -> list[float]:
    """Sum of each action's token log-probabilities after the prompt, one unpadded sequence at a time."""
    prompt_ids = policy.tokenizer(policy.prompts([state], [actions])[0]).input_ids
    scores = []
    for action in actions:
        candidate = policy.tokenizer(" " + action, add_special_tokens=False).input_ids
        with torch.no_grad():
            logits = causal_lm(policy.model)(input_ids=torch.tensor([prompt_ids + candidate])).logits[0]
        logprobs = logits.log_softmax(-1)
        scores.append(sum(float(logprobs[len(prompt_ids) - 1 + i, t]) for i, t in enumerate(candidate)))
    return scores


def test_candidates_see_the_prompt_and_themselves_only():
    prompt_mask = torch.tensor([[0, 1, 1]])  # one left pad, a two-token prompt
    owner = torch.tensor([[0, 0, 1, -1]])  # action 0 has two tokens, action 1 one, then padding
    assert offsets_within_candidates(owner).tolist()[0][:3] == [0, 1, 0]
    mask = candidate_attention(prompt_mask, owner)[0, 0].int().tolist()
    assert mask == [
        [1, 0, 0, 0, 0, 0, 0],  # the pad sees itself only
        [0, 1, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 0, 0],
        [0, 1, 1, 1, 0, 0, 0],  # action 0, first token: the prompt and itself
        [0, 1, 1, 1, 1, 0, 0],
        [0, 1, 1, 0, 0, 1, 0],  # action 1: the prompt and itself, not action 0
        [0, 1, 1, 0, 0, 0, 1],  # trailing padding (never read)
    ]


def test_scoring_needs_positions_for_the_longest_candidate(gpt2_tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(n_embd=32, n_layer=1, n_head=2, n_positions=40, vocab_size=len(gpt2_tokenizer)))
    policy = LMPolicy(model.eval(), gpt2_tokenizer, PolicyConfig(model="gpt2-random", lora=False, max_prompt_tokens=36))
    decider = CandidateScoringDecider(policy)
    with pytest.raises(ValueError, match="lower PolicyConfig.max_prompt_tokens"):
        decider(decider.encode([STATES[1]], [["look around the corridor and then some more"]]))


def test_a_scoring_policy_scores_each_action_text_as_its_own_continuation(tiny_policy):
    tiny_policy.config.decider = "scoring"
    with torch.no_grad():
        logprobs, _ = tiny_policy(tiny_policy.encode(STATES, ACTIONS))
    for row, (state, actions) in enumerate(zip(STATES, ACTIONS, strict=True)):
        expected = torch.tensor(reference_scores(tiny_policy, state, actions)).log_softmax(-1)
        torch.testing.assert_close(logprobs[row, : len(actions)], expected, atol=1e-4, rtol=1e-4)
