"""Greedy decoding that stops paying for rows that are done: the frozen reflector's fast path.

``model.generate`` carries every row of a batch to the longest one: a row that reached EOS or a stop string keeps
going through the model (its output replaced by padding) until the last row ends, and stop strings are checked by
decoding every row's whole text at every step. :func:`greedy_decode` writes the same tokens (the argmax at each
step, from the same left-padded prompts and positions) but removes a finished row from the batch and from the KV
cache at once, so each step costs what the rows still writing need, and checks stop strings on those rows only.
Under bf16 the tokens can differ where rows have left: a smaller batch can make the kernels round otherwise and
flip a near-tie (measured on FileQA with a warmed-up reflector: one reflection of 98; ``experiments/reflector_speed``).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence

import torch
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

from reflect_agent.policy import causal_lm
from reflect_agent.tensors import left_pad, position_ids_from


def _forward_arguments(model: PreTrainedModel, cache: DynamicCache) -> dict[str, object]:
    """The KV cache (``cache`` in recent transformers, ``past_key_values`` before) and, where the model takes it,
    ``logits_to_keep=1``: the prompt's logits are needed at its last position only."""
    parameters = inspect.signature(causal_lm(model).forward).parameters
    arguments: dict[str, object] = {"cache" if "cache" in parameters else "past_key_values": cache}
    if "logits_to_keep" in parameters:
        arguments["logits_to_keep"] = 1
    return arguments


@torch.inference_mode()
def greedy_decode(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    stop_strings: Sequence[str] = (),
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
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

    Returns:
        ``(tokens per row, forward passes)``; the passes count the prompt's and one per decoding step.
    """
    device = next(model.parameters()).device
    input_ids, attention_mask = left_pad([list(p) for p in prompts], tokenizer.pad_token_id)
    input_ids, attention_mask = input_ids.to(device), attention_mask.to(device)
    eos = tokenizer.eos_token_id
    generated: list[list[int]] = [[] for _ in prompts]
    rows = torch.arange(len(prompts), device=device)  # (B',) the prompts still writing
    positions = position_ids_from(attention_mask)
    cache = DynamicCache()
    arguments = _forward_arguments(model, cache)
    passes = 0
    tokens = input_ids
    while True:
        with autocast():
            logits = model(
                input_ids=tokens,
                attention_mask=attention_mask,
                position_ids=positions,
                use_cache=True,
                **arguments,
            ).logits[:, -1]  # (B', V)
        passes += 1
        chosen = logits.argmax(-1)  # (B',)
        keep = []
        for k, (row, token) in enumerate(zip(rows.tolist(), chosen.tolist(), strict=True)):
            if token == eos:
                continue
            generated[row].append(token)
            if len(generated[row]) >= max_new_tokens:
                continue
            if stop_strings:
                text = tokenizer.decode(generated[row], skip_special_tokens=True)
                if any(stop in text for stop in stop_strings):
                    continue
            keep.append(k)
        if not keep:
            return generated, passes
        if len(keep) < len(rows):
            index = torch.tensor(keep, device=device)
            cache.batch_select_indices(index)
            rows, chosen, attention_mask = rows[index], chosen[index], attention_mask[index]
            positions = positions[index]
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones((len(rows), 1))], dim=1)
        positions = positions[:, -1:] + 1  # (B', 1)
        tokens = chosen[:, None]
