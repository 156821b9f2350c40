"""Greedy decoding that stops paying for rows that are done, and checks several drafted tokens per forward pass:
the frozen reflector's fast path.

``model.generate`` carries every row of a batch to the longest one: a row that reached EOS or a stop string keeps
going through the model (its output replaced by padding) until the last row ends, and stop strings are checked by
decoding every row's whole text at every step. :func:`greedy_decode` writes the same tokens (the argmax at each
step, from the same left-padded prompts and positions) but removes a finished row from the batch and from the KV
cache at once, so each step costs what the rows still writing need, and checks stop strings on those rows only.
Under bf16 the tokens can differ where rows have left: a smaller batch can make the kernels round otherwise and
flip a near-tie (measured on FileQA with a warmed-up reflector: one reflection of 98; ``experiments/reflector_speed``).

With :class:`NgramDrafts` it also guesses each row's next tokens from what followed the same tokens in earlier
continuations (prompt lookup decoding, with the reflector's own past reflections as the text to look in) and feeds
them in the same pass: the pass's argmax at each drafted position says how many of them are right, and a row keeps
those plus the pass's next token. A warmed-up reflector's analyses repeat their phrasing, so one pass writes several
tokens of them; the tokens are still the argmax after the tokens before them, so the text is the plain greedy text
(up to the rounding of another number of positions in the pass, as above). Rejected guesses stay in the KV cache,
masked out.

Where the prompts' lengths differ so much that a left-padded batch would be mostly padding (FileQA's reflector
prompts run from ~120 to ~850 tokens), each prompt's pass runs on its own and its keys and values are padded into
the batch's cache afterwards: the prompt pass computes the real tokens only. :class:`DecodeStats` says where the
time went (prompt passes, decoding passes, tokens of the longest row per pass).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from reflect_agent.policy import causal_lm
from reflect_agent.tensors import left_pad, position_ids_from


class NgramDrafts:
    """Draft tokens for greedy decoding: after the same ``n`` tokens, the ``k`` tokens that followed them in the
    latest sequence given to :meth:`add` that held them (at their first place in it, where most follows).

    Args:
        n: How many trailing tokens a draft is looked up by.
        k: The most tokens a draft holds.
        max_entries: The most ``n``-token keys kept; the least recently written go first.
    """

    def __init__(self, n: int = 2, k: int = 8, max_entries: int = 100_000):
        if n < 1 or k < 1 or max_entries < 1:
            raise ValueError(f"NgramDrafts needs n, k and max_entries of at least 1, got {n}, {k}, {max_entries}.")
        self.n, self.k, self.max_entries = n, k, max_entries
        self.table: dict[tuple[int, ...], tuple[int, ...]] = {}

    def add(self, tokens: Sequence[int]) -> None:
        """Learn the continuations in ``tokens`` (a prompt's last tokens and what followed them)."""
        tokens, seen = tuple(tokens), set()
        for start in range(len(tokens) - self.n):
            key = tokens[start : start + self.n]
            if key in seen:
                continue
            seen.add(key)
            self.table.pop(key, None)  # re-inserted last: the most recent
            self.table[key] = tokens[start + self.n : start + self.n + self.k]
        while len(self.table) > self.max_entries:
            del self.table[next(iter(self.table))]

    def draft(self, context: Sequence[int]) -> tuple[int, ...]:
        """The tokens that followed ``context``'s last ``n`` tokens last time (empty if never seen)."""
        return self.table.get(tuple(context[-self.n :]), ()) if len(context) >= self.n else ()

    def state_dict(self) -> dict[str, Any]:
        """The table as JSON-ready data, for a checkpoint."""
        return {"n": self.n, "k": self.k, "table": [[list(key), list(value)] for key, value in self.table.items()]}

    def load_state_dict(self, state: dict[str, Any]) -> bool:
        """Take a saved table if it was made with the same ``n`` and ``k`` (else keep this one); whether it did."""
        if (state.get("n"), state.get("k")) != (self.n, self.k):
            return False
        self.table = {tuple(key): tuple(value) for key, value in state["table"]}
        while len(self.table) > self.max_entries:
            del self.table[next(iter(self.table))]
        return True


@dataclass
class DecodeStats:
    """What :func:`greedy_decode` spent, summed over its calls: the prompts' passes (prefill, with each row's first
    token) and the passes after them (decode), and how many tokens the decode passes moved the longest row by.

    ``steps`` counts, per call, the longest row's tokens after its first (an EOS that ended it included): the passes
    decoding one token at a time takes. Without drafts each decode pass is one step; with drafts
    ``steps / passes`` is how many one-token passes a pass stood for, and ``decode_s / steps`` the time per token
    of the longest row, the figure to set beside the weights-read floor of one step (it includes the host's work
    between passes: stop strings, draft lookups).
    """

    calls: int = 0
    prefill_s: float = 0.0
    decode_s: float = 0.0
    passes: int = 0
    steps: int = 0

    @property
    def ms_per_step(self) -> float | None:
        """Decode milliseconds per step of the longest row (``None`` before any step)."""
        return 1000 * self.decode_s / self.steps if self.steps else None

    @property
    def steps_per_pass(self) -> float | None:
        """Steps per decode pass: 1 without drafts, more where guesses were right (``None`` before any pass)."""
        return self.steps / self.passes if self.passes else None

    def snapshot(self) -> DecodeStats:
        """A copy of the figures so far, for :meth:`metrics` of what comes after."""
        return copy.copy(self)

    def metrics(self, since: DecodeStats) -> dict[str, float]:
        """Namespaced metrics of the calls after the snapshot ``since`` (none without a call; the ratios only where
        there were steps)."""
        spent = DecodeStats(**{f.name: getattr(self, f.name) - getattr(since, f.name) for f in fields(self)})
        if not spent.calls:
            return {}
        ratios = {
            "perf/reflect_decode_ms_per_step": spent.ms_per_step,
            "perf/reflect_steps_per_pass": spent.steps_per_pass,
        }
        return {
            "perf/reflect_prefill_s": spent.prefill_s,
            "perf/reflect_decode_s": spent.decode_s,
            **{key: value for key, value in ratios.items() if value is not None},
        }


def _forward_arguments(model: PreTrainedModel, cache: DynamicCache) -> tuple[dict[str, object], bool]:
    """The KV cache argument (``cache`` in recent transformers, ``past_key_values`` before), and whether the model
    takes ``logits_to_keep`` (a pass needs the logits of its last positions only)."""
    parameters = inspect.signature(causal_lm(model).forward).parameters
    return {"cache" if "cache" in parameters else "past_key_values": cache}, "logits_to_keep" in parameters


#: Above this share of padding among a left-padded batch's prompt positions, :func:`greedy_decode` runs each
#: prompt's pass alone. FileQA's reflector prompts (118-854 tokens) leave 31-55% of a batch of 8 as padding; one
#: pass per prompt took half the time of the padded pass there, with the same tokens (SmolLM2, fp32, 2 CPU cores;
#: ``experiments/reflector_speed/prefill_by_row.py``). Below 30% it was not measured, nor on a GPU (CPU only).
PREFILL_BY_ROW_ABOVE = 0.3


def _padding_share(prompts: Sequence[Sequence[int]]) -> float:
    """The share of padding among the positions of ``prompts`` left-padded to the longest."""
    longest = max(len(p) for p in prompts)
    return 1 - sum(len(p) for p in prompts) / (len(prompts) * longest)


def _prefill_by_row(model: PreTrainedModel, prompts: Sequence[Sequence[int]], cache: DynamicCache) -> torch.Tensor:
    """Each prompt's pass on its own (no padding computed), its keys and values left-padded into ``cache`` as the
    batched pass would hold them (the padding masked); the logits after each prompt's last token, ``(B, 1, V)``."""
    device = next(model.parameters()).device
    longest = max(len(p) for p in prompts)
    logits, layers = [], []
    for prompt in prompts:
        own = DynamicCache()
        arguments, keeps_logits = _forward_arguments(model, own)
        output = model(
            input_ids=torch.tensor([list(prompt)], device=device),
            position_ids=torch.arange(len(prompt), device=device)[None],
            use_cache=True,
            **arguments,
            **({"logits_to_keep": 1} if keeps_logits else {}),
        )
        logits.append(output.logits[:, -1:])
        layers.append([(layer.keys, layer.values) for layer in own.layers])
    for index in range(len(layers[0])):
        # (1, heads, length, dim) per row -> (B, heads, longest, dim), zeros on the left where the mask is 0.
        keys, values = (
            torch.cat([torch.nn.functional.pad(t, (0, 0, longest - t.shape[-2], 0)) for t in tensors])
            for tensors in zip(*(row[index] for row in layers), strict=True)
        )
        cache.update(keys, values, index)
    return torch.cat(logits)


@torch.inference_mode()
def greedy_decode(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    stop_strings: Sequence[str] = (),
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
    drafts: NgramDrafts | None = None,
    stats: DecodeStats | None = None,
) -> tuple[list[list[int]], int]:
    """The greedy continuation of each prompt (token ids), up to EOS, a stop string or ``max_new_tokens``.

    A row ends with the token that completes EOS (not kept), or with the token after which its decoded text
    holds a stop string (kept: the caller cuts the text before the stop), or after ``max_new_tokens`` tokens.

    Args:
        model: A causal LM (a ``PeftModel`` works too), in eval mode.
        tokenizer: Its tokenizer (``pad_token_id`` and ``eos_token_id`` set).
        prompts: The prompts' token ids, one list per row.
        max_new_tokens: The most tokens a row writes.
        stop_strings: Texts that end a row.
        autocast: The context the forward passes run in (bf16 autocast or a no-op).
        drafts: Guesses of each row's next tokens, checked in the same pass (see the module docstring); ``None``:
            one token per pass. The caller teaches it (:meth:`NgramDrafts.add`).
        stats: Where to add this call's seconds, passes and steps (:class:`DecodeStats`).

    Returns:
        ``(tokens per row, forward passes)``; the passes count the prompt's and each later one (one per token
        without drafts).
    """
    device = next(model.parameters()).device
    input_ids, attention_mask = left_pad([list(p) for p in prompts], tokenizer.pad_token_id)
    input_ids, attention_mask = input_ids.to(device), attention_mask.to(device)
    eos = tokenizer.eos_token_id
    contexts = [list(p[-drafts.n :]) if drafts else [] for p in prompts]  # what drafts are looked up by
    generated: list[list[int]] = [[] for _ in prompts]
    produced = [0 for _ in prompts]  # tokens each row's passes produced: its own and the EOS that ended it
    rows = torch.arange(len(prompts), device=device)  # (B',) the prompts still writing
    positions = position_ids_from(attention_mask)  # (B', T) of this pass's tokens
    cache = DynamicCache()
    arguments, keeps_logits = _forward_arguments(model, cache)
    passes = 0
    tokens = input_ids
    guesses: list[tuple[int, ...]] = [() for _ in prompts]  # each row's drafted tokens in this pass
    width = 1  # the positions whose logits this pass needs: the last one, and one per drafted token
    started = time.perf_counter()
    prefilled = started
    while True:
        with autocast():
            if passes == 0 and device.type == "cpu" and _padding_share(prompts) > PREFILL_BY_ROW_ABOVE:
                logits = _prefill_by_row(model, prompts, cache)  # (B, 1)
            else:
                logits = model(
                    input_ids=tokens,
                    attention_mask=attention_mask,
                    position_ids=positions,
                    use_cache=True,
                    **arguments,
                    **({"logits_to_keep": width} if keeps_logits else {}),
                ).logits[:, -width:]  # (B', W)
        passes += 1
        predicted = logits.argmax(-1).tolist()  # (B', W): the argmax after each position (waits for the pass)
        if passes == 1:
            prefilled = time.perf_counter()
        keep, written = [], []
        for k, row in enumerate(rows.tolist()):
            guess, accepted = guesses[k], 0
            while accepted < len(guess) and guess[accepted] == predicted[k][accepted]:
                accepted += 1
            written.append(accepted)
            for token in predicted[k][: accepted + 1]:
                produced[row] += 1
                if token == eos:
                    break
                generated[row].append(token)
                contexts[row].append(token)
                if len(generated[row]) >= max_new_tokens:
                    break
                if stop_strings and any(
                    stop in tokenizer.decode(generated[row], skip_special_tokens=True) for stop in stop_strings
                ):
                    break
            else:
                keep.append(k)
        if not keep:
            if stats is not None:
                stats.calls += 1
                stats.prefill_s += prefilled - started
                stats.decode_s += time.perf_counter() - prefilled
                stats.passes += passes - 1
                stats.steps += max(produced) - 1
            return generated, passes
        # The pass's last `width` positions (the prompt's last, or a block): a row's first and its accepted guesses
        # stay attended in the cache, its rejected guesses and padding are masked out for good.
        attended = torch.tensor([[j <= written[k] for j in range(width)] for k in range(len(rows))], device=device)
        attention_mask = torch.cat([attention_mask[:, :-width], attended.long()], dim=1)
        next_position = positions[:, -width] + torch.tensor(written, device=device) + 1  # (B',)
        if len(keep) < len(rows):
            index = torch.tensor(keep, device=device)
            cache.batch_select_indices(index)
            rows, attention_mask, next_position = rows[index], attention_mask[index], next_position[index]
        # The next block per row: its last token (not in the cache yet), its guesses, padding to the longest.
        # A row's guesses stop where its token limit would: no position beyond what the plain path reaches.
        guesses = [
            drafts.draft(contexts[row])[: max_new_tokens - len(generated[row]) - 1] if drafts else ()
            for row in rows.tolist()
        ]
        width = 1 + max(len(guess) for guess in guesses)
        tokens = torch.tensor(
            [
                [generated[row][-1], *guess, *[tokenizer.pad_token_id] * (width - 1 - len(guess))]
                for row, guess in zip(rows.tolist(), guesses, strict=True)
            ],
            device=device,
        )  # (B', W)
        real = torch.tensor([[j <= len(guess) for j in range(width)] for guess in guesses], device=device)
        attention_mask = torch.cat([attention_mask, real.long()], dim=1)
        lengths = torch.tensor([len(guess) for guess in guesses], device=device)
        # Padding takes the row's last real position (it is masked; a position past the model's range would fail).
        positions = next_position[:, None] + torch.minimum(torch.arange(width, device=device), lengths[:, None])
