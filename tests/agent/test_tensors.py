"""Decision batches: concatenation and indexing keep every row's prompt, actions and repeat counts."""

from __future__ import annotations

import pytest
import torch

from reflect_agent.tensors import PolicyBatch

STATES = ["You are in the kitchen. A fridge is here.", "A long corridor. " * 12 + "You see a door."]
ACTIONS = [["go north", "open fridge"], ["go east", "go west", "open door", "look"]]


def test_repeat_counts_follow_rows_through_cat_and_indexing(tiny_policy):
    first = tiny_policy.encode(STATES[:1], ACTIONS[:1], taken=[["go north"]])
    second = tiny_policy.encode(STATES[1:], ACTIONS[1:], taken=[["look", "look"]])
    both = PolicyBatch.cat([first, second])
    assert both.repeats.tolist() == [[1, 0, 0, 0], [0, 0, 0, 2]]
    assert both[1].repeats.tolist() == [[0, 0, 0, 2]] and both[0].repeats.tolist() == [[1, 0]]
    assert both.to("cpu").repeats is both.repeats
    with pytest.raises(ValueError, match="repeat counts"):
        PolicyBatch.cat([first, tiny_policy.encode(STATES[1:], ACTIONS[1:])])


def test_batches_concatenate_and_index_without_changing_outputs(tiny_policy):
    first = tiny_policy.encode(STATES[:1], ACTIONS[:1])
    second = tiny_policy.encode(STATES[1:], ACTIONS[1:])
    both = PolicyBatch.cat([first, second])
    assert len(both) == 2 and both.label_ids.shape == (2, 4)
    with torch.no_grad():
        logprobs_both, values_both = tiny_policy(both)
        logprobs_first, values_first = tiny_policy(first)
    torch.testing.assert_close(logprobs_both[0, :2], logprobs_first[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(values_both[:1], values_first)
    row = both[torch.tensor([0])]
    for got, want in zip(
        (row.input_ids, row.attention_mask, row.label_ids, row.action_mask),
        (first.input_ids, first.attention_mask, first.label_ids, first.action_mask),
        strict=True,
    ):
        assert torch.equal(got, want)


@pytest.mark.parametrize("decider", ["labels", "scoring"])
def test_a_rows_key_is_what_its_forward_pass_reads_whatever_its_padding_and_repeat_counts(decider):
    from reflect_agent.policy import LMPolicy, PolicyConfig

    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", decider=decider))
    alone = policy.encode(STATES[:1], ACTIONS[:1])
    padded = policy.encode([STATES[1], STATES[0]], [ACTIONS[1], ACTIONS[0]], taken=[[], ["go north"]])
    assert padded.attention_mask[1].sum() < padded.attention_mask.shape[1]  # the short prompt is padded here
    assert padded.row_keys()[1] == alone.row_keys()[0] != padded.row_keys()[0]
    # Another action (another label, or another candidate text) is another key.
    fewer = policy.encode(STATES[:1], [ACTIONS[0][:1]])
    assert fewer.row_keys()[0] != alone.row_keys()[0]
    renamed = policy.encode(STATES[:1], [["go north", "open the fridge"]])
    assert (renamed.row_keys()[0] != alone.row_keys()[0]) and (renamed.row_keys()[0][0] != alone.row_keys()[0][0])
