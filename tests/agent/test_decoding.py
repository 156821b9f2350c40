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
