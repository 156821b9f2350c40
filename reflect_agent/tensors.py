"""Tensors of a decision batch, and the masked-softmax arithmetic every decider shares.

:class:`PolicyBatch` holds encoded prompts, the admissible actions' labels (and, for the scoring decider,
their candidate tokens), padded into rectangles; the functions turn masked scores ``(B, A)`` into actions,
log-probabilities and entropies in log space, so a masked-out action never gets probability mass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class PolicyBatch:
    """Encoded prompts and their labels (and, for the scoring decider, every action's text after the prompt).

    Attributes:
        input_ids: ``(B, T)`` long, left-padded prompt tokens.
        attention_mask: ``(B, T)`` long, 1 on real tokens.
        label_ids: ``(B, A)`` long, the token id of each action's label (0 where no action).
        action_mask: ``(B, A)`` bool, True on the admissible actions (always a prefix of each row).
        candidate_ids: ``(B, L)`` long or ``None``: the tokens of every admissible action's candidate text, one
            candidate after another, right-padded; read by :class:`reflect_agent.deciders.CandidateScoringDecider`.
        candidate_actions: ``(B, L)`` long or ``None``: the action each candidate token belongs to, -1 on padding.
        repeats: ``(B, A)`` long or ``None``: how many times the episode had already taken each action, for
            :attr:`PolicyConfig.repeat_penalty` (``None``: encoded without the episode's past actions).
        frozen_hidden: ``(B, T + L, H)`` or ``None``: the hidden states entering block ``frozen_blocks`` of the LM,
            one per prompt token and then one per candidate token (``L`` is 0 without candidates), kept from the
            forward pass that acted (:mod:`reflect_agent.frozen_blocks`); a forward pass then runs only the blocks
            from there. ``None``: the forward pass runs every block.
        frozen_blocks: The number of leading blocks whose output ``frozen_hidden`` is (0 without it).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    label_ids: torch.Tensor
    action_mask: torch.Tensor
    candidate_ids: torch.Tensor | None = None
    candidate_actions: torch.Tensor | None = None
    repeats: torch.Tensor | None = None
    frozen_hidden: torch.Tensor | None = None
    frozen_blocks: int = 0

    def __post_init__(self) -> None:
        if (self.candidate_ids is None) != (self.candidate_actions is None):
            raise ValueError("PolicyBatch needs both candidate_ids and candidate_actions, or neither.")
        if (self.frozen_hidden is None) != (self.frozen_blocks == 0):
            raise ValueError("PolicyBatch needs both frozen_hidden and a positive frozen_blocks, or neither.")
        if self.frozen_hidden is not None and self.frozen_hidden.shape[:2] != (len(self), self.width):
            raise ValueError(
                f"frozen_hidden has shape {tuple(self.frozen_hidden.shape)}; it needs one row per prompt and one "
                f"column per prompt and candidate token: ({len(self)}, {self.width}, H)."
            )

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    @property
    def width(self) -> int:
        """Tokens per row that the LM reads: the prompt's, then the candidates'."""
        return self.input_ids.shape[1] + (0 if self.candidate_ids is None else self.candidate_ids.shape[1])

    @property
    def has_candidates(self) -> bool:
        """Whether the batch holds the actions' candidate tokens (a scoring policy's encoding)."""
        return self.candidate_ids is not None

    def _map(self, function: Callable[[torch.Tensor], torch.Tensor]) -> PolicyBatch:
        """A batch of ``function(tensor)`` for every tensor field, keeping absent fields ``None``."""
        return PolicyBatch(
            **{
                f.name: t if not isinstance(t := getattr(self, f.name), torch.Tensor) else function(t)
                for f in dataclasses.fields(self)
            }
        )

    def to(self, device: str | torch.device) -> PolicyBatch:
        """This batch on ``device`` (the same object's tensors when they are there already)."""
        return self._map(lambda t: t.to(device))

    def row_keys(self) -> list[tuple[tuple[int, ...], ...]]:
        """Per row, what its forward pass reads, without padding: its prompt tokens, label ids, candidate tokens and
        their actions. Rows with equal keys get equal scores and values (up to the rounding of other batch shapes);
        the repeat counts, applied after the pass, are not in the key, nor kept frozen states (a batch as
        :meth:`LMPolicy.encode` makes it has none)."""
        prompt = self.attention_mask.bool()
        labels = self.action_mask
        keys = []
        for row in range(len(self)):
            key = (tuple(self.input_ids[row][prompt[row]].tolist()), tuple(self.label_ids[row][labels[row]].tolist()))
            if self.has_candidates:
                tokens = self.candidate_actions[row] >= 0
                key += (
                    tuple(self.candidate_ids[row][tokens].tolist()),
                    tuple(self.candidate_actions[row][tokens].tolist()),
                )
            keys.append(key)
        return keys

    def __getitem__(self, index: torch.Tensor | slice | list[int] | int) -> PolicyBatch:
        """The sub-batch of rows ``index`` (an int gives a one-row batch), without padding no row needs."""
        if isinstance(index, int):
            index = [index]
        rows = self._map(lambda t: t[index])
        keep_t = int(rows.attention_mask.sum(-1).max()) if len(rows) else 0
        keep_a = int(rows.action_mask.sum(-1).max()) if len(rows) else 0
        keep_l = int((rows.candidate_actions >= 0).sum(-1).max()) if rows.has_candidates and len(rows) else 0
        width = rows.input_ids.shape[1]
        frozen = rows.frozen_hidden
        if frozen is not None:  # the prompt's columns keep their last keep_t, the candidates' their first keep_l
            frozen = torch.cat([frozen[:, width - keep_t : width], frozen[:, width : width + keep_l]], dim=1)
        return PolicyBatch(
            rows.input_ids[:, width - keep_t :],
            rows.attention_mask[:, width - keep_t :],
            rows.label_ids[:, :keep_a],
            rows.action_mask[:, :keep_a],
            None if rows.candidate_ids is None else rows.candidate_ids[:, :keep_l],
            None if rows.candidate_actions is None else rows.candidate_actions[:, :keep_l],
            None if rows.repeats is None else rows.repeats[:, :keep_a],
            frozen,
            rows.frozen_blocks,
        )

    @staticmethod
    def cat(batches: list[PolicyBatch]) -> PolicyBatch:
        """Concatenate batches along rows, left-padding tokens and right-padding actions and candidates.

        The frozen blocks' hidden states are kept when every batch has them from the same blocks, else dropped (a
        forward pass of the result then runs every block).
        """
        if not batches:
            raise ValueError("PolicyBatch.cat needs at least one batch.")
        if len({b.has_candidates for b in batches}) > 1:
            raise ValueError("PolicyBatch.cat got batches with and without candidates; encode them with one policy.")
        if len({b.repeats is None for b in batches}) > 1:
            raise ValueError(
                "PolicyBatch.cat got batches with and without repeat counts; encode all of them with or without "
                "the episodes' past actions (LMPolicy.encode's taken)."
            )

        def joined(parts: list[torch.Tensor | None], *, left: bool, value: int = 0) -> torch.Tensor | None:
            if parts[0] is None:
                return None
            width = max(t.shape[1] for t in parts)
            # (left, right) padding of dimension 1, after (0, 0) for each dimension behind it
            padding = [
                (0, 0) * (t.dim() - 2) + ((width - t.shape[1], 0) if left else (0, width - t.shape[1])) for t in parts
            ]
            return torch.cat([nn.functional.pad(t, pad, value=value) for t, pad in zip(parts, padding, strict=True)])

        def field(name: str) -> list[torch.Tensor | None]:
            return [getattr(b, name) for b in batches]

        frozen_blocks = {b.frozen_blocks for b in batches}
        frozen_prompts = frozen_candidates = None
        if len(frozen_blocks) == 1 and 0 not in frozen_blocks:
            frozen_prompts = joined([b.frozen_hidden[:, : b.input_ids.shape[1]] for b in batches], left=True)
            frozen_candidates = joined([b.frozen_hidden[:, b.input_ids.shape[1] :] for b in batches], left=False)
        return PolicyBatch(
            joined(field("input_ids"), left=True),
            joined(field("attention_mask"), left=True),
            joined(field("label_ids"), left=False),
            joined(field("action_mask"), left=False),
            joined(field("candidate_ids"), left=False),
            joined(field("candidate_actions"), left=False, value=-1),
            joined(field("repeats"), left=False),
            None if frozen_prompts is None else torch.cat([frozen_prompts, frozen_candidates], dim=1),
            frozen_blocks.pop() if frozen_prompts is not None else 0,
        )


def repeat_counts(actions: list[list[str]], taken: list[list[str]]) -> torch.Tensor:
    """``(B, A)`` long: how many times ``taken[b]`` (an episode's past actions) holds each of ``actions[b]``."""
    if len(actions) != len(taken):
        raise ValueError(
            f"Got {len(actions)} action lists and {len(taken)} lists of taken actions; pass one per state."
        )
    counts = torch.zeros((len(actions), max(len(a) for a in actions)), dtype=torch.long)
    for row, (acts, past) in enumerate(zip(actions, taken, strict=True)):
        counts[row, : len(acts)] = torch.tensor([past.count(a) for a in acts], dtype=torch.long)
    return counts


def masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Log-softmax over the entries of ``logits`` where ``mask`` is True; masked entries get ``-inf``-like values.

    Args:
        logits: ``(B, A)`` float scores.
        mask: ``(B, A)`` bool; every row needs at least one True.
    """
    logits = torch.where(mask, logits, torch.finfo(logits.dtype).min)
    return logits.log_softmax(dim=-1)


def masked_entropy(logprobs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Entropy ``(B,)`` of the distributions ``logprobs`` ``(B, A)`` over their unmasked entries."""
    return -torch.where(mask, logprobs.exp() * logprobs, 0.0).sum(dim=-1)


def sample_actions(logprobs: torch.Tensor, *, greedy: bool) -> torch.Tensor:
    """``(B,)`` actions drawn from ``logprobs`` ``(B, A)`` (masked entries have probability 0), or the argmax."""
    if greedy:
        return logprobs.argmax(dim=-1)
    return torch.multinomial(logprobs.exp(), num_samples=1).squeeze(-1)


def choose_actions(
    logprobs: torch.Tensor, mask: torch.Tensor, action: torch.Tensor | None, *, greedy: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(action, logprob, entropy)``, each ``(B,)``, from masked log-probabilities ``(B, A)``.

    Samples the actions (or takes the argmax with ``greedy``) when ``action`` is ``None``; otherwise checks
    that the given actions are admissible and scores them.
    """
    if action is None:
        action = sample_actions(logprobs, greedy=greedy)
    else:
        action = action.to(logprobs.device, dtype=torch.long)
        check_actions(action, mask)
    logprob = logprobs.gather(1, action.unsqueeze(1)).squeeze(1)  # (B,)
    return action, logprob, masked_entropy(logprobs, mask)


def check_actions(action: torch.Tensor, mask: torch.Tensor) -> None:
    """Raise ``ValueError`` when an action is out of range or masked out in its row."""
    if action.shape != mask.shape[:1]:
        raise ValueError(f"action must have shape ({mask.shape[0]},), got {tuple(action.shape)}.")
    in_range = (action >= 0) & (action < mask.shape[1])
    valid = in_range & mask.gather(1, action.clamp(0, mask.shape[1] - 1).unsqueeze(1)).squeeze(1)  # (B,)
    if not bool(valid.all()):
        bad = torch.nonzero(~valid).flatten().tolist()
        raise ValueError(f"Actions {action[bad].tolist()} at rows {bad} are not admissible in their states.")


def left_pad(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-pad token lists into ``(input_ids, attention_mask)``, both ``(B, T)`` long."""
    width = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if seq:
            input_ids[row, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
            attention_mask[row, width - len(seq) :] = 1
    return input_ids, attention_mask


def position_ids_from(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids ``(B, T)`` that count real tokens only, so left padding does not shift positions."""
    return (attention_mask.cumsum(dim=-1) - 1).clamp(min=0)
