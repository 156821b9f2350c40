"""Scoring heads: action scores ``(B, A)`` from a causal LM's outputs, one forward pass per batch.

Two ways to score the admissible actions of a prompt, both pure functions of the LM and the batch:

* :func:`label_logits`: the LM-head logit of each action's single-token label at the prompt's last position
  (single-prompt enumeration, the paper's policy).
* :func:`candidate_scores`: every action's text scored as a continuation of the prompt, the sum (or mean) of
  its tokens' log-probabilities, as in GLAM/Lamorel and TWOSOME. The prompt and all candidates form one
  sequence whose attention mask (:func:`candidate_attention`) keeps the candidates apart and whose positions
  restart at the prompt's end for each candidate, so one forward pass scores every action and the scores
  equal those of scoring each ``prompt + candidate`` sequence on its own.

:class:`reflect_agent.policy.LMPolicy` turns the scores into a masked, tempered softmax.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

import torch
from transformers import PreTrainedModel

from reflect_agent.tensors import PolicyBatch, position_ids_from


def candidate_attention(prompt_mask: torch.Tensor, candidate_actions: torch.Tensor) -> torch.Tensor:
    """The ``(B, 1, T, T)`` boolean attention mask (True: may attend) of prompts followed by their candidates.

    Each row is a left-padded prompt (``prompt_mask`` ``(B, P)``) and then its candidates one after another
    (``candidate_actions`` ``(B, L)``: the action of each token, -1 on padding). Prompt tokens see the prompt
    causally; a candidate's token sees the whole prompt and its own candidate's earlier tokens, never another
    candidate. Every position also sees itself, so padding rows stay finite.
    """
    # Groups: -2 a real prompt token, a >= 0 the candidate of action a, -1 padding.
    groups = torch.cat([torch.where(prompt_mask.bool(), -2, -1), candidate_actions], dim=1)  # (B, T)
    length = groups.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=groups.device).tril()  # (T, T)
    query, key = groups[:, :, None], groups[:, None, :]  # (B, T, 1), (B, 1, T)
    sees = (key == -2) | ((query == key) & (query >= 0))  # (B, T, T)
    itself = torch.eye(length, dtype=torch.bool, device=groups.device)
    return ((sees & causal) | itself).unsqueeze(1)  # (B, 1, T, T)


def offsets_within_candidates(candidate_actions: torch.Tensor) -> torch.Tensor:
    """``(B, L)``: the index of each candidate token within its own candidate (0 at each candidate's start)."""
    index = torch.arange(candidate_actions.shape[1], device=candidate_actions.device).expand_as(candidate_actions)
    previous = torch.nn.functional.pad(candidate_actions[:, :-1], (1, 0), value=-2)  # (B, L): the token before
    starts = torch.where(candidate_actions != previous, index, 0).cummax(dim=1).values  # (B, L)
    return index - starts


def with_candidates(prompts: PolicyBatch, candidates: list[list[list[int]]], pad_id: int) -> PolicyBatch:
    """``prompts`` with candidate tokens: ``candidates[b][a]`` are the token ids scored for action ``a`` of row ``b``.

    The candidates of a row are laid one after another and right-padded (``candidate_actions`` is -1 there).
    """
    width = max(sum(len(ids) for ids in row) for row in candidates)
    candidate_ids = torch.full((len(candidates), width), pad_id, dtype=torch.long)
    candidate_actions = torch.full((len(candidates), width), -1, dtype=torch.long)
    for b, row in enumerate(candidates):
        column = 0
        for a, ids in enumerate(row):
            candidate_ids[b, column : column + len(ids)] = torch.tensor(ids)
            candidate_actions[b, column : column + len(ids)] = a
            column += len(ids)
    return dataclasses.replace(prompts, candidate_ids=candidate_ids, candidate_actions=candidate_actions)


def label_logits(
    lm: PreTrainedModel,
    hidden: torch.Tensor,
    label_ids: torch.Tensor,
    autocast: Callable[[], contextlib.AbstractContextManager],
) -> torch.Tensor:
    """The LM-head logits ``(B, A)`` of tokens ``label_ids`` ``(B, A)`` from hidden states ``(B, H)``, in fp32."""
    head = lm.get_output_embeddings()
    weight = head.weight[label_ids]  # (B, A, H)
    with autocast():
        logits = torch.einsum("bh,bah->ba", hidden.to(weight.dtype), weight)  # (B, A)
    if getattr(head, "bias", None) is not None:
        logits = logits + head.bias[label_ids]
    return logits.float()


def candidate_scores(
    lm: PreTrainedModel,
    batch: PolicyBatch,
    autocast: Callable[[], contextlib.AbstractContextManager],
    *,
    reduction: str = "sum",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each action's score ``(B, A)`` as the prompt's continuation, and the prompt's last hidden state ``(B, H)``.

    Args:
        lm: The causal LM (not a ``PeftModel`` wrapper), with ``"sdpa"`` or ``"eager"`` attention.
        batch: Prompts with candidates (:func:`with_candidates`), on ``lm``'s device.
        autocast: The context the forward pass runs in (bf16 autocast or a no-op).
        reduction: ``"sum"`` of the candidate's token log-probabilities (GLAM) or their ``"mean"`` (TWOSOME).

    Raises:
        ValueError: The batch has no candidates, the attention cannot take a per-sequence mask, or a prompt and
            its longest candidate exceed the model's positions.
    """
    if not batch.has_candidates:
        raise ValueError("This batch has no candidate tokens; encode it with a scoring policy (decider='scoring').")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}.")
    if lm.config._attn_implementation not in ("sdpa", "eager"):
        raise ValueError(
            f"Candidate scoring needs an attention mask per sequence, which {lm.config._attn_implementation!r} "
            "attention does not take; load the model with attn_implementation='sdpa'."
        )
    prompt_mask, owner = batch.attention_mask, batch.candidate_actions  # (B, P), (B, L)
    width = prompt_mask.shape[1]
    offsets = offsets_within_candidates(owner)  # (B, L)
    tail_positions = torch.where(owner >= 0, prompt_mask.sum(-1, keepdim=True) + offsets, 0)  # (B, L)
    limit = getattr(lm.config, "max_position_embeddings", None)
    if limit is not None and int(tail_positions.max()) >= limit:
        raise ValueError(
            f"A prompt and its longest candidate need {int(tail_positions.max()) + 1} positions, more than the "
            f"model's {limit}; lower PolicyConfig.max_prompt_tokens to leave room for the action texts."
        )
    positions = torch.cat([position_ids_from(prompt_mask), tail_positions], dim=1)  # (B, T)
    mask = candidate_attention(prompt_mask, owner)  # (B, 1, T, T)
    if lm.config._attn_implementation == "eager":  # eager attention adds its mask to the scores
        mask = torch.zeros(mask.shape, device=mask.device).masked_fill(~mask, torch.finfo(torch.float32).min)
    with autocast():
        hidden = lm.base_model(
            input_ids=torch.cat([batch.input_ids, batch.candidate_ids], dim=1),
            attention_mask=mask,
            position_ids=positions,
            use_cache=False,
        ).last_hidden_state  # (B, T, H)
        # A candidate's token is predicted by the position before it: the prompt's end for its first token.
        tail = torch.arange(owner.shape[1], device=owner.device)  # (L,)
        predictor = torch.where(offsets == 0, width - 1, width + tail - 1)  # (B, L)
        rows, columns = torch.nonzero(owner >= 0, as_tuple=True)  # (K,), (K,): the real candidate tokens
        logits = lm.get_output_embeddings()(hidden[rows, predictor[rows, columns]])  # (K, V)
    targets = batch.candidate_ids[rows, columns]  # (K,)
    token_logprobs = logits.float().log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (K,)
    actions = owner[rows, columns]  # (K,)
    scores = torch.zeros(batch.action_mask.shape, device=hidden.device)  # (B, A)
    scores = scores.index_put((rows, actions), token_logprobs, accumulate=True)
    if reduction == "mean":
        counts = torch.zeros_like(scores).index_put((rows, actions), torch.ones_like(token_logprobs), accumulate=True)
        scores = scores / counts.clamp(min=1)
    return scores, hidden[:, width - 1]  # (B, A), (B, H)
