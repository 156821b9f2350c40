"""Per-candidate scoring and generate-then-parse, against references and against label enumeration."""

from __future__ import annotations

import pytest
import torch

from reflect_agent.deciders import CandidateScoringDecider, GenerateParseDecider, line_done
from reflect_agent.policy import LMPolicy, PolicyConfig
from tests.agent.test_reflector import parrot
from tests.agent.test_scoring import reference_scores

STATES = ["You are in the kitchen. A fridge is here.", "A long corridor. " * 6 + "You see a door."]
ACTIONS = [["go north", "open the fridge"], ["go east", "go west", "open door", "look around the corridor"]]


@pytest.fixture
def policy(tiny_policy) -> LMPolicy:
    with torch.no_grad():
        tiny_policy.value_head.weight.normal_()
    return tiny_policy


def test_scoring_matches_a_per_candidate_reference(policy):
    decider = CandidateScoringDecider(policy)
    batch = decider.encode(STATES, ACTIONS)
    assert len(batch) == 2 and batch.candidate_actions.max(-1).values.tolist() == [1, 3]  # one row per state
    with torch.no_grad():
        logprobs, _ = decider(batch)
    for row, (state, actions) in enumerate(zip(STATES, ACTIONS, strict=True)):
        expected = torch.tensor(reference_scores(policy, state, actions)).log_softmax(-1)
        torch.testing.assert_close(logprobs[row, : len(actions)], expected, atol=1e-4, rtol=1e-4)


def test_scoring_matches_the_reference_on_gpt2(gpt2_tokenizer):
    # GPT-2 has learned absolute positions: candidates must continue at each prompt's own length.
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=len(gpt2_tokenizer))
    model = GPT2LMHeadModel(config).eval()
    policy = LMPolicy(model, gpt2_tokenizer, PolicyConfig(model="gpt2-random", lora=False))
    with torch.no_grad():
        logprobs, _ = CandidateScoringDecider(policy)(CandidateScoringDecider(policy).encode(STATES, ACTIONS))
    for row, (state, actions) in enumerate(zip(STATES, ACTIONS, strict=True)):
        expected = torch.tensor(reference_scores(policy, state, actions)).log_softmax(-1)
        torch.testing.assert_close(logprobs[row, : len(actions)], expected, atol=1e-4, rtol=1e-4)


def test_scoring_agrees_with_enumeration_when_candidates_are_the_labels(policy):
    # Scoring the label token itself gives each action the very logit enumeration reads: same distribution.
    decider = CandidateScoringDecider(policy, candidate_format="{label}")
    with torch.no_grad():
        enumeration, enumeration_value = policy(policy.encode(STATES, ACTIONS))
        scoring, scoring_value = decider(decider.encode(STATES, ACTIONS))
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    torch.testing.assert_close(scoring[mask], enumeration[mask], atol=1e-4, rtol=1e-4)
    assert torch.equal(scoring.argmax(-1), enumeration.argmax(-1))
    assert decider.act(STATES, ACTIONS, greedy=True) == policy.act(STATES, ACTIONS, greedy=True)
    torch.testing.assert_close(scoring_value, enumeration_value, atol=1e-4, rtol=1e-4)  # same prompt hidden state


def test_scoring_mean_reduction_and_gradients(policy):
    total = CandidateScoringDecider(policy)
    mean = CandidateScoringDecider(policy, reduction="mean")
    batch = total.encode(STATES, ACTIONS)
    lengths = [len(policy.tokenizer(" " + a, add_special_tokens=False).input_ids) for a in ACTIONS[1]]
    with torch.no_grad():
        sums = torch.tensor(reference_scores(policy, STATES[1], ACTIONS[1]))
        mean_logprobs, _ = mean(batch)
    torch.testing.assert_close(mean_logprobs[1], (sums / torch.tensor(lengths)).log_softmax(-1), atol=1e-4, rtol=1e-4)
    action, logprob, entropy, value = total.get_action_and_value(batch, torch.tensor([0, 3]))
    assert action.tolist() == [0, 3] and logprob.shape == entropy.shape == value.shape == (2,)
    (logprob.sum() + value.sum()).backward()
    assert all(p.grad is not None for p in policy.trainable_parameters())
    with pytest.raises(ValueError, match="reduction"):
        CandidateScoringDecider(policy, reduction="max")


def test_scoring_takes_the_repeat_penalty_off_the_action_scores(policy):
    policy.config.repeat_penalty = 0.75
    policy.config.decider = "scoring"
    taken = [["open the fridge"], ["go west", "look around the corridor", "go west"]]
    batch = policy.encode(STATES, ACTIONS, taken=taken)
    with torch.no_grad():
        logprobs, _ = policy(batch)
    for row, (state, actions) in enumerate(zip(STATES, ACTIONS, strict=True)):
        scores = torch.tensor(reference_scores(policy, state, actions)) - 0.75 * batch.repeats[row, : len(actions)]
        torch.testing.assert_close(logprobs[row, : len(actions)], scores.log_softmax(-1), atol=1e-4, rtol=1e-4)


def test_generate_then_parse_reads_labels_and_action_strings(policy):
    decider = GenerateParseDecider(policy)
    assert decider.parse(" B", ACTIONS[0]) == 1
    assert decider.parse("B. open the fridge", ACTIONS[0]) == 1
    assert decider.parse("(A)", ACTIONS[0]) == 0
    assert decider.parse(" Open the   fridge", ACTIONS[0]) == 1
    assert decider.parse("C", ACTIONS[0]) == -1  # a label with no action in this state
    assert decider.parse("dance", ACTIONS[0]) == -1
    assert decider.parse("", ACTIONS[0]) == -1
    assert decider.parse("\nB. open the fridge\nA.", ACTIONS[0]) == 1  # the first non-empty line counts


def test_generation_stops_after_the_first_complete_line(gpt2_tokenizer):
    assert line_done("\nA. go north\n") and not line_done("\n\n") and not line_done("A. go north")
    policy = LMPolicy(parrot(gpt2_tokenizer, "Ċ"), gpt2_tokenizer, PolicyConfig(model="gpt2-random", lora=False))
    decider = GenerateParseDecider(policy, max_new_tokens=5)
    generated = torch.tensor(
        [gpt2_tokenizer("\nA.\nB.").input_ids[:5], gpt2_tokenizer("A. go north now").input_ids[:5]]
    )
    assert decider.reply_lengths(generated).tolist() == [4, 5]  # "\n", "A", ".", "\n" | all of "A. go north now"
    assert decider.act(STATES, ACTIONS, greedy=True) == [-1, -1]  # only newlines: no line, no action


def test_generate_then_parse_acts_on_what_the_model_writes(gpt2_tokenizer):
    policy = LMPolicy(parrot(gpt2_tokenizer, "ĠB"), gpt2_tokenizer, PolicyConfig(model="gpt2-random", lora=False))
    decider = GenerateParseDecider(policy, max_new_tokens=3)
    assert decider.act(STATES, ACTIONS, greedy=True) == [1, 1]
    batch = decider.encode(STATES, ACTIONS)
    with torch.no_grad():
        action, logprob, entropy, value = decider.get_action_and_value(batch, greedy=True)
        _, given_logprob, _, _ = decider.get_action_and_value(batch, torch.tensor([1, 0]))
        enumeration, _ = policy(policy.encode(STATES, ACTIONS))
    assert action.tolist() == [1, 1]
    assert logprob.shape == entropy.shape == value.shape == (2,)
    assert given_logprob[0] > -1e-3 and given_logprob[1] < -20  # " B" is certain, " A" is not
    assert torch.all(logprob > -1e-2)  # three certain " B" tokens
    assert enumeration.argmax(-1).tolist() == [1, 1]


def test_generate_then_parse_gives_minus_one_for_unparseable_replies(gpt2_tokenizer):
    policy = LMPolicy(parrot(gpt2_tokenizer, "Ġdance"), gpt2_tokenizer, PolicyConfig(model="gpt2-random", lora=False))
    assert GenerateParseDecider(policy, max_new_tokens=2).act(STATES, ACTIONS, greedy=True) == [-1, -1]
