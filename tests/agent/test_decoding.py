"""The fast greedy path writes what ``model.generate`` writes, row by row, while dropping finished rows."""

from __future__ import annotations

import pytest
import torch
from transformers import StoppingCriteriaList

from reflect_agent.decoding import DecodeStats, greedy_decode
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


class Oracle:
    """Drafts that know each row's greedy continuation (``truth``: its context so far -> what follows), with every
    ``wrong``-th guessed token replaced: each pass keeps ``wrong - 1`` guesses and masks the rest."""

    n = 1

    def __init__(self, prompts, truth, k=4, wrong=3):
        self.prompts, self.truth, self.k, self.wrong = [list(p) for p in prompts], truth, k, wrong
        self.checked = 0  # guessed tokens handed out

    def draft(self, context):
        for prompt, rest in zip(self.prompts, self.truth, strict=True):
            done = len(context) - 1  # the context holds the prompt's last token and what was written since
            if context[0] == prompt[-1] and context[1:] == rest[:done]:
                guess = list(rest[done : done + self.k])
                for index in range(self.wrong - 1, len(guess), self.wrong):
                    guess[index] = guess[index] + 1  # a wrong guess: this position and those after it are rejected
                self.checked += len(guess)
                return tuple(guess)
        return ()


# Random models' argmax barely depends on the context; SmolLM2's does, so there a rejected guess left attended, or a
# block at the wrong positions, changes the text.
@pytest.mark.parametrize("spec", ["tiny", "gpt2-random", "smollm2"])
def test_drafted_tokens_leave_the_text_as_it_was_and_right_guesses_save_passes(spec):
    model, tokenizer = load_model(spec, device="cpu")
    model.eval()
    token_lists = [tokenizer(p).input_ids for p in PROMPTS[:3]]  # distinct last tokens: one oracle row each
    one_at_a_time = DecodeStats()
    plain, plain_passes = greedy_decode(model, tokenizer, token_lists, max_new_tokens=16, stats=one_at_a_time)
    drafts, drafted_stats = Oracle(token_lists, plain), DecodeStats()
    tokens, passes = greedy_decode(model, tokenizer, token_lists, max_new_tokens=16, drafts=drafts, stats=drafted_stats)
    assert tokens == plain and drafts.checked > 0
    # Each block keeps 2 right guesses and the pass's token (3 tokens), masking the wrong one and the one after it.
    assert passes == 1 + -(-15 // 3)
    # The statistics: the same 15 steps after the prompt's pass, one per pass without drafts, 3 per pass with them.
    assert (one_at_a_time.calls, one_at_a_time.passes, one_at_a_time.steps) == (1, plain_passes - 1, 15)
    assert (drafted_stats.passes, drafted_stats.steps, drafted_stats.steps_per_pass) == (passes - 1, 15, 3.0)
    assert drafted_stats.prefill_s > 0 and drafted_stats.decode_s > 0
    # A stop string inside a kept block ends the row there, as on the plain path.
    stops = [tokenizer.decode(plain[0], skip_special_tokens=True)[5:8]]
    stopped, _ = greedy_decode(model, tokenizer, token_lists, max_new_tokens=16, stop_strings=stops)
    drafted, _ = greedy_decode(
        model, tokenizer, token_lists, max_new_tokens=16, stop_strings=stops, drafts=Oracle(token_lists, plain)
    )
    assert drafted == stopped and len(stopped[0]) < 16


def test_an_eos_inside_a_kept_block_ends_the_row_without_the_tokens_after_it():
    model, tokenizer = load_model("gpt2-random", device="cpu")
    model.eval()
    token_lists = [tokenizer(p).input_ids for p in PROMPTS[:3]]
    plain, _ = greedy_decode(model, tokenizer, token_lists, max_new_tokens=12)
    eos = plain[0][4]  # row 0's fifth token: inside its second block of guesses

    class EndsAtTheFifth:
        pad_token_id, eos_token_id = tokenizer.pad_token_id, eos
        decode = staticmethod(tokenizer.decode)

    expected, _ = greedy_decode(model, EndsAtTheFifth(), token_lists, max_new_tokens=12)
    drafts = Oracle(token_lists, plain, k=6, wrong=7)  # every guess right
    tokens, _ = greedy_decode(model, EndsAtTheFifth(), token_lists, max_new_tokens=12, drafts=drafts)
    assert tokens == expected and len(tokens[0]) == plain[0].index(eos) and drafts.checked > 0
    # The EOS that ends a row is a step of it, as it is a pass without drafts: row 0 alone takes as many steps after
    # the prompt's pass as it keeps tokens (the first comes with the prompt's pass, the EOS takes one), in as many
    # passes one at a time and in one with the guesses.
    steps = len(tokens[0])
    one_at_a_time, drafted = DecodeStats(), DecodeStats()
    greedy_decode(model, EndsAtTheFifth(), token_lists[:1], max_new_tokens=12, stats=one_at_a_time)
    drafts = Oracle(token_lists[:1], plain[:1], k=6, wrong=7)
    greedy_decode(model, EndsAtTheFifth(), token_lists[:1], max_new_tokens=12, drafts=drafts, stats=drafted)
    assert steps > 1 and (one_at_a_time.passes, one_at_a_time.steps) == (steps, steps)
    assert (drafted.passes, drafted.steps) == (1, steps)


def test_ngram_drafts_learned_from_earlier_continuations_save_passes():
    from reflect_agent.decoding import NgramDrafts

    model, tokenizer = load_model("gpt2-random", device="cpu")
    model.eval()
    token_lists = [tokenizer(p).input_ids for p in PROMPTS]
    plain, plain_passes = greedy_decode(model, tokenizer, token_lists, max_new_tokens=16)
    learned = NgramDrafts(n=2, k=5)
    for prompt, tokens in zip(token_lists, plain, strict=True):
        learned.add([*prompt[-2:], *tokens])  # what the reflector teaches its drafts after each batch
    tokens, passes = greedy_decode(model, tokenizer, token_lists, max_new_tokens=16, drafts=learned)
    assert tokens == plain and passes <= plain_passes // 2


def test_decode_stats_give_metrics_of_the_calls_since_a_snapshot():
    stats = DecodeStats(calls=2, prefill_s=1.0, decode_s=2.0, passes=10, steps=30)
    before = stats.snapshot()
    stats.calls, stats.prefill_s, stats.decode_s, stats.passes, stats.steps = 3, 1.5, 2.8, 14, 50
    assert stats.metrics(before) == pytest.approx(
        {
            "perf/reflect_prefill_s": 0.5,
            "perf/reflect_decode_s": 0.8,
            "perf/reflect_decode_ms_per_step": 40.0,
            "perf/reflect_steps_per_pass": 5.0,
        }
    )
    assert stats.metrics(stats.snapshot()) == {}  # no call since: nothing to log (generate, a server, cache hits)


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


@pytest.mark.parametrize("spec", ["gpt2-random", "smollm2"])
def test_prompts_of_very_different_lengths_are_prefilled_one_by_one_with_the_same_tokens(spec, monkeypatch):
    from reflect_agent import decoding

    model, tokenizer = load_model(spec, device="cpu")
    model.eval()
    token_lists = [tokenizer(p).input_ids for p in PROMPTS]  # 1 to ~40 tokens: most of a padded batch is padding
    assert decoding._padding_share(token_lists) > decoding.PREFILL_BY_ROW_ABOVE
    calls = []
    handle = model.register_forward_hook(
        lambda _, args, kwargs, out: calls.append(kwargs["input_ids"].shape), with_kwargs=True
    )
    try:
        by_row, _ = greedy_decode(model, tokenizer, token_lists, max_new_tokens=12)
        first = len(calls)
        monkeypatch.setattr(decoding, "PREFILL_BY_ROW_ABOVE", 1.0)  # never: one padded pass
        batched, _ = greedy_decode(model, tokenizer, token_lists, max_new_tokens=12)
    finally:
        handle.remove()
    assert by_row == batched
    # Drafted passes after the prompt passes by row: the same tokens (the guesses at the right positions after the
    # padding), fewer passes. The first 3 prompts: distinct last tokens, one oracle row each.
    monkeypatch.setattr(decoding, "PREFILL_BY_ROW_ABOVE", 0.0)
    drafts = Oracle(token_lists[:3], batched[:3])
    drafted, passes = greedy_decode(model, tokenizer, token_lists[:3], max_new_tokens=12, drafts=drafts)
    assert drafted == batched[:3] and passes < 12 and drafts.checked > 0
    assert [tuple(shape) for shape in calls[: len(PROMPTS)]] == [(1, len(t)) for t in token_lists]  # one pass each
    assert tuple(calls[first]) == (len(PROMPTS), max(len(t) for t in token_lists))  # padded to the longest
