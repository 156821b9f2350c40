"""SFT examples: warm-up records as the token sequences (and batches) the warm-up trains on.

* **Policy**: prompt = the policy's own rendering (:meth:`LMPolicy.encode`, so SFT and RL read the very same
  tokens), with the record's reflection in the analysis section or without one; completion = the label token
  of the expert action, or the tokens of its text when the policy decides by ``"scoring"``
  (:meth:`reflect_agent.policy.LMPolicy.candidate_tokens`). :func:`choice_examples` keep the whole encoded
  state instead, for the ``"policy"`` objective.
* **Reflector**: prompt = :meth:`PromptTemplate.reflector_prompt` of the state (with the last action,
  :func:`reflect_agent.prompts.reflector_state`); completion = the reflection and the end-of-sequence token.
  Prompt and completion are tokenized apart and joined, so the model learns to continue exactly the tokens it
  will be given when it generates.

Labels are ``-100`` (:data:`IGNORE_INDEX`) on the prompt, so only the completion is learned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from reflect_agent.policy import LMPolicy
from reflect_agent.prompts import PromptTemplate, fit_state, reflector_state
from reflect_agent.tensors import PolicyBatch, left_pad
from reflect_agent.warmup import StepRecord

#: The label of the tokens no loss is computed on (the prompt's, and padding).
IGNORE_INDEX = -100


def encoded_records(
    policy: LMPolicy, records: Sequence[StepRecord], *, reflection_prob: float = 1.0, seed: int = 0, chunk: int = 64
) -> Iterator[tuple[PolicyBatch, StepRecord]]:
    """Each record as the policy encodes it (a one-row :class:`PolicyBatch`), with or without its reflection.

    Args:
        policy: The policy whose prompts (labels, and candidates for a scoring policy) are used.
        records: Warm-up records.
        reflection_prob: Share of prompts that include the record's reflection (drawn with ``seed``).
        seed: Seeds which prompts include their reflection.
        chunk: Records encoded per call to :meth:`LMPolicy.encode`.
    """
    rng = np.random.default_rng(seed)
    shown = rng.random(len(records)) < reflection_prob
    for start in range(0, len(records), chunk):
        part = records[start : start + chunk]
        reflections = [r.reflection if shown[start + i] else None for i, r in enumerate(part)]
        batch = policy.encode([r.state for r in part], [r.actions for r in part], reflections)
        for row, record in enumerate(part):
            yield batch[row], record


def policy_examples(
    policy: LMPolicy, records: Sequence[StepRecord], *, reflection_prob: float = 1.0, seed: int = 0
) -> list[dict[str, list[int]]]:
    """Completion examples: the policy's own prompt tokens, then the expert action's label token (or text tokens).

    Returns:
        ``{"input_ids", "labels"}`` per record (see :func:`encoded_records` for the arguments), ``labels`` being
        ``-100`` except on the completion: the label token, or with ``policy.config.decider == "scoring"`` the
        tokens that decider scores for the action.
    """
    scoring = policy.config.decider == "scoring"
    examples = []
    for batch, record in encoded_records(policy, records, reflection_prob=reflection_prob, seed=seed):
        prompt = batch.input_ids[0].tolist()
        action = record.expert_action
        completion = policy.candidate_tokens(record.actions[action]) if scoring else [int(batch.label_ids[0, action])]
        examples.append({"input_ids": prompt + completion, "labels": [IGNORE_INDEX] * len(prompt) + completion})
    return examples


def choice_examples(
    policy: LMPolicy, records: Sequence[StepRecord], *, reflection_prob: float = 1.0, seed: int = 0
) -> list[dict[str, Any]]:
    """Examples of the ``"policy"`` objective: ``{"input_ids": prompt tokens, "batch": the record encoded,
    "action": the expert's index}`` per record (see :func:`encoded_records` for the arguments)."""
    return [
        {"input_ids": batch.input_ids[0].tolist(), "batch": batch, "action": record.expert_action}
        for batch, record in encoded_records(policy, records, reflection_prob=reflection_prob, seed=seed)
    ]


def reflector_examples(
    tokenizer: PreTrainedTokenizerBase,
    template: PromptTemplate,
    records: Sequence[StepRecord],
    *,
    max_prompt_tokens: int = 1024,
) -> list[dict[str, list[int]]]:
    """Reflector examples: the reflector prompt's tokens, then the reflection's and end-of-sequence.

    A prompt over ``max_prompt_tokens`` tokens is cut by :func:`reflect_agent.prompts.fit_state`, as
    :class:`reflect_agent.reflector.Reflector` cuts it when it generates.
    """
    if tokenizer.eos_token_id is None:
        raise ValueError("The reflector's tokenizer has no eos token; reflections must end with one.")
    examples = []
    for record in records:
        _, prompt = fit_state(
            tokenizer,
            lambda cut, actions=record.actions: template.reflector_prompt(cut, actions),
            reflector_state(record.state, record.previous_action),
            max_prompt_tokens,
        )
        completion = [*tokenizer(" " + record.reflection, add_special_tokens=False).input_ids, tokenizer.eos_token_id]
        examples.append({"input_ids": prompt + completion, "labels": [IGNORE_INDEX] * len(prompt) + completion})
    return examples


@dataclass
class CompletionCollator:
    """Left-pads examples into a batch: ``input_ids``, ``attention_mask``, ``labels`` (``-100`` on padding), and
    ``index`` where the examples carry theirs."""

    pad_token_id: int

    def __call__(self, examples: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        input_ids, attention_mask = left_pad([e["input_ids"] for e in examples], self.pad_token_id)
        labels, _ = left_pad([e["labels"] for e in examples], IGNORE_INDEX)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels, **_indices(examples)}


def collate_choices(examples: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch of :func:`choice_examples`: ``{"batch": PolicyBatch, "actions": (B,) long}``, and ``index`` where the
    examples carry theirs."""
    return {
        "batch": PolicyBatch.cat([e["batch"] for e in examples]),
        "actions": torch.tensor([e["action"] for e in examples], dtype=torch.long),
        **_indices(examples),
    }


def _indices(examples: list[dict[str, Any]]) -> dict[str, list[int]]:
    """``{"index": [...]}``: the examples' places in the training set, where they carry them (see
    :class:`reflect_agent.sft.FrozenActivations`), else ``{}``."""
    return {"index": [e["index"] for e in examples]} if examples and "index" in examples[0] else {}
