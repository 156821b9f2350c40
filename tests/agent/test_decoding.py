"""The fast greedy path writes what ``model.generate`` writes, row by row, while dropping finished rows."""

from __future__ import annotations

import pytest
import torch
from transformers import StoppingCriteriaList

from reflect_agent.decoding import greedy_decode
from reflect_agent.models import load_model
from reflect_agent.reflector import StopOnStrings
from reflect_agent.tensors import left_pad

PROMPTS = [
    "You are in the kitchen. A fridge is here.",
    "A long corridor. " * 6 + "You see a door.",
    "Taxi: row 2, column 3.",
    "x",
]


def reference(model, tokenizer, token_lists, max_new_tokens, stops):
    """``model.generate``'s greedy text per row, as the reflector's plain path runs it."""
    input_ids, attention_mask = left_pad(token_lists, tokenizer.pad_token_id)
    with torch.inference_mode():
        output = model.generate(
            input_ids=input_ids,
            attention_mask=attention_mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            stopping_criteria=StoppingCriteriaList([StopOnStrings(tokenizer, stops, input_ids.shape[1])]),
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    return tokenizer.batch_decode(output[:, input_ids.shape[1] :], skip_special_tokens=True)


@pytest.mark.parametrize("spec", ["tiny", "gpt2-random"])
def test_the_fast_path_writes_the_same_text_as_generate_with_rows_ending_at_different_steps(spec):
    model, tokenizer = load_model(spec, device="cpu")
    model.eval()
    token_lists = [tokenizer(p).input_ids for p in PROMPTS]
    free = reference(model, tokenizer, token_lists, 12, [])
    # A stop string from inside one row's text ends that row early and leaves the others writing.
    stops = [free[0][len(free[0]) // 3 : len(free[0]) // 3 + 3]]
    expected = reference(model, tokenizer, token_lists, 12, stops)
    generated, passes = greedy_decode(model, tokenizer, token_lists, max_new_tokens=12, stop_strings=stops)
    assert tokenizer.batch_decode(generated, skip_special_tokens=True) == expected
    assert len(generated[0]) < 12 and passes == max(len(g) for g in generated)  # one pass per step
    unstopped, _ = greedy_decode(model, tokenizer, token_lists, max_new_tokens=12)
    assert tokenizer.batch_decode(unstopped, skip_special_tokens=True) == free


def test_a_row_at_eos_leaves_the_batch_and_its_eos_is_not_kept():
    model, tokenizer = load_model("gpt2-random", device="cpu")
    model.eval()
    token_lists = [tokenizer(p).input_ids for p in PROMPTS[:2]]
    first, _ = greedy_decode(model, tokenizer, token_lists, max_new_tokens=1)

    class EndsRowOne:  # the tokenizer, with row 1's first token as its end of sequence
        pad_token_id, eos_token_id = tokenizer.pad_token_id, first[1][0]
        decode = staticmethod(tokenizer.decode)

    generated, passes = greedy_decode(model, EndsRowOne(), token_lists, max_new_tokens=5)
    assert generated[1] == [] and len(generated[0]) == 5 and passes == 5


@pytest.mark.parametrize("spec", ["tiny", "gpt2-random"])
def test_drafted_tokens_leave_the_text_as_it_was_and_right_drafts_save_passes(spec):
    from reflect_agent.decoding import NgramDrafts

    model, tokenizer = load_model(spec, device="cpu")
    model.eval()
    token_lists = [tokenizer(p).input_ids for p in PROMPTS]
    plain, plain_passes = greedy_decode(model, tokenizer, token_lists, max_new_tokens=16)
    stops = [tokenizer.decode(plain[1], skip_special_tokens=True)[8:11]]  # ends row 1 inside a drafted block
    stopped, _ = greedy_decode(model, tokenizer, token_lists, max_new_tokens=16, stop_strings=stops)
    learned = NgramDrafts(n=2, k=5)
    for prompt, tokens in zip(token_lists, plain, strict=True):
        learned.add([*prompt[-2:], *tokens])  # what the reflector teaches its drafts after each batch
    wrong = NgramDrafts(n=1, k=3)
    wrong.add(range(100, 3000, 7))  # guesses that are never right: every pass checks 3 wasted positions
    for drafts in (learned, wrong):
        tokens, passes = greedy_decode(model, tokenizer, token_lists, max_new_tokens=16, drafts=drafts)
        assert tokens == plain
        assert greedy_decode(model, tokenizer, token_lists, max_new_tokens=16, stop_strings=stops, drafts=drafts)[
            0
        ] == (stopped)
        if drafts is learned:
            assert passes <= plain_passes // 2  # up to 6 tokens a pass (where rows' n-grams do not collide)
        else:
            assert passes == plain_passes


def test_drafts_follow_the_latest_continuation_and_stay_bounded():
    from reflect_agent.decoding import NgramDrafts

    drafts = NgramDrafts(n=2, k=3, max_entries=3)
    drafts.add([1, 2, 3, 4, 5, 6])  # keys (1, 2) ... (4, 5); (1, 2), the oldest, goes first
    assert drafts.draft([9, 2, 3]) == (4, 5, 6) and drafts.draft([4, 5]) == (6,)
    assert drafts.draft([1, 2]) == () and drafts.draft([5, 6]) == () and drafts.draft([3]) == ()
    drafts.add([2, 3, 7])
    assert drafts.draft([2, 3]) == (7,) and len(drafts.table) == 3  # the latest sequence wins
    drafts.add([8, 8, 8, 8, 8])
    assert drafts.draft([8, 8]) == (8, 8, 8)  # within a sequence, the first place: the longest continuation
    with pytest.raises(ValueError, match="at least 1"):
        NgramDrafts(n=0)
