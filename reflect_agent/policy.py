"""The LM policy: one prompt per state, one forward pass per decision, a softmax over the admissible labels.

The prompt (:class:`reflect_agent.prompts.PromptTemplate`) lists the admissible actions under single-token
labels and ends with an action cue. One forward pass gives the next-token logits at the last prompt position;
the policy keeps the logits of the admissible labels only (the rest are masked in log space) and takes a
softmax over them: that is the action distribution, with exact log-probabilities and entropy. A value head on
the same last hidden state gives the PPO critic. Prompts are **left-padded** so that the last position is the
last real token of every row; position ids are computed from the attention mask so padding changes nothing.

Labels are ``" A"`` .. ``" Z"`` then ``" a"`` .. ``" z"`` by default (52); each must be exactly one token where
it is read (right after the cue; ``" 7"`` and ``"7"`` differ), which :func:`check_single_token_labels` checks
when the policy is built. There is no silent fallback: a state with more admissible actions than labels raises
``ValueError``; build the env with ``max_actions=52`` (ALFWorld's default is 128) or pass more labels.

Prompts longer than ``max_prompt_tokens`` lose the oldest text of their state after its first paragraph, where
the goal is stated (:func:`reflect_agent.prompts.fit_state`); the action list, analysis and cue are always kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from peft import PeftModel
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from reflect_agent.checkpoint import read_file
from reflect_agent.frozen_blocks import frozen_block_count, recording, resuming
from reflect_agent.models import apply_lora, load_lora, load_model
from reflect_agent.prompts import LABEL_PRESETS, PromptTemplate, fit_state
from reflect_agent.scoring import candidate_scores, label_logits, with_candidates
from reflect_agent.tensors import (
    PolicyBatch,
    choose_actions,
    left_pad,
    masked_log_softmax,
    position_ids_from,
    repeat_counts,
)
from reflect_gym.files import atomic_directory

_CONFIG_FILE = "policy_config.json"
_VALUE_HEAD_FILE = "value_head.safetensors"
_ADAPTER_DIR = "adapter"
_MODEL_DIR = "model"


@dataclass
class PolicyConfig:
    """Everything needed to build an :class:`LMPolicy`.

    Attributes:
        model: Model spec for :func:`reflect_agent.models.load_model` (``"smollm2"``, ``"tiny"``, a folder...).
        labels: A preset name from :data:`reflect_agent.prompts.LABEL_PRESETS` (``"letters"``: 52 labels) or
            the label strings themselves. Each must be one token right after the cue; checked at build time.
        template: The prompt template.
        decider: How the policy picks an action. ``"labels"``: single-prompt enumeration, the logit of each
            action's label token after the prompt. ``"scoring"``: the same prompt, then each action's text
            scored as its continuation (:func:`reflect_agent.scoring.candidate_scores`, the sum of its
            tokens' log-probabilities), every action in the same forward pass; SFT's completion objective
            then trains the expert action's text instead of its label. Both work in SFT, evaluation and
            online RL.
        temperature: Softmax temperature of the action distribution (sampling, log-probabilities, entropy).
        repeat_penalty: Subtracted from an action's score (in nats, before the temperature) once for every time
            the episode has already taken that action, where the caller passes the episode's past actions
            (:meth:`LMPolicy.encode`'s ``taken``; rollouts and :func:`reflect_agent.evaluation.evaluate` do). Like
            generation's repetition penalty, it works against the LM's prior for copying a command it already
            ran. 0 (the default) leaves the scores as they are; keep it 0 in envs that repeat moves by design
            (Taxi, BabyAI).
        value_head: ``"linear"`` or ``"mlp"`` (one hidden layer of ``value_hidden_size`` with tanh).
        value_hidden_size: Hidden width of the ``"mlp"`` value head.
        max_prompt_tokens: Prompts longer than this lose part of their state (see :func:`fit_state`).
        lora: Add LoRA adapters (the base model is then frozen); ``False`` trains every model weight.
        lora_r: LoRA rank.
        lora_alpha: LoRA alpha.
        lora_dropout: LoRA dropout (active only in ``train()`` mode; the policy is built in eval mode).
        lora_target_modules: Modules to adapt; ``None`` means the architecture's defaults.
        init_seed: Seeds the initial weights of new LoRA adapters and of the value head, which are then the same in
            every process whatever the global random state.
        device: ``"cpu"``, ``"cuda"``...; ``None`` means CUDA when available.
        dtype: Model parameter dtype (``"float32"``, ``"bfloat16"``); ``None`` means bf16 on CUDA, fp32 on CPU.
        autocast: Run the model's forward pass under bf16 autocast (the value head stays fp32); it pays where the
            device runs bf16 in hardware (:func:`reflect_agent.models.native_bf16`), else it is slower than fp32.
    """

    model: str = "smollm2"
    labels: str | list[str] = "letters"
    template: PromptTemplate = field(default_factory=PromptTemplate)
    decider: Literal["labels", "scoring"] = "labels"
    temperature: float = 1.0
    repeat_penalty: float = 0.0
    value_head: Literal["linear", "mlp"] = "linear"
    value_hidden_size: int = 256
    max_prompt_tokens: int = 1024
    lora: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: list[str] | None = None
    init_seed: int = 0
    device: str | None = None
    dtype: str | None = None
    autocast: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.template, dict):
            self.template = PromptTemplate(**self.template)
        if isinstance(self.labels, str) and self.labels not in LABEL_PRESETS:
            raise ValueError(f"labels={self.labels!r} is not a preset; use one of {sorted(LABEL_PRESETS)} or a list.")
        labels = self.label_list()
        if not labels or len(set(labels)) != len(labels):
            raise ValueError(f"labels must be a non-empty list of distinct strings, got {labels!r}.")
        if self.decider not in ("labels", "scoring"):
            raise ValueError(f"decider must be 'labels' or 'scoring', got {self.decider!r}.")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}; use greedy=True for argmax.")
        if not 0 <= self.repeat_penalty < float("inf"):
            raise ValueError(f"repeat_penalty must be a finite number >= 0, got {self.repeat_penalty}; 0 turns it off.")
        if self.value_head not in ("linear", "mlp"):
            raise ValueError(f"value_head must be 'linear' or 'mlp', got {self.value_head!r}.")
        if self.max_prompt_tokens < 16:
            raise ValueError(f"max_prompt_tokens must be at least 16, got {self.max_prompt_tokens}.")

    def label_list(self) -> list[str]:
        """The label strings: the preset's, or :attr:`labels` itself."""
        return list(LABEL_PRESETS[self.labels]) if isinstance(self.labels, str) else list(self.labels)


def causal_lm(model: nn.Module) -> PreTrainedModel:
    """The Hugging Face causal LM inside ``model`` (unwrapping a ``PeftModel``)."""
    return model.get_base_model() if isinstance(model, PeftModel) else model


def check_single_token_labels(tokenizer: PreTrainedTokenizerBase, prompt: str, labels: list[str]) -> list[int]:
    """The token id of each label, checking it is exactly one token when appended to ``prompt``.

    Raises:
        ValueError: A label tokenizes to several tokens, merges with the end of the prompt, or two labels share
            a token.
    """
    prompt_ids = tokenizer(prompt).input_ids
    label_ids = []
    for label in labels:
        ids = tokenizer(prompt + label).input_ids
        if len(ids) != len(prompt_ids) + 1 or ids[: len(prompt_ids)] != prompt_ids:
            pieces = tokenizer.convert_ids_to_tokens(ids[len(prompt_ids) - 1 :])
            raise ValueError(
                f"Label {label!r} is not a single token after the cue for this tokenizer (prompt end + label "
                f"tokenize as {pieces}); choose labels that are single tokens there, e.g. labels='letters', "
                "or change PromptTemplate.cue."
            )
        label_ids.append(ids[-1])
    if len(set(label_ids)) != len(label_ids):
        raise ValueError(f"Labels {labels!r} map to repeated token ids {label_ids}; use distinct single-token labels.")
    return label_ids


class LMPolicy(nn.Module):
    """A causal LM acting by single-prompt action enumeration, with a value head, CleanRL-shaped.

    Args:
        model: A causal LM (optionally wrapped in a ``PeftModel``), on its device.
        tokenizer: Its tokenizer (pad token set).
        config: The policy's config; ``config.labels`` are checked against ``tokenizer`` here.
    """

    def __init__(self, model: nn.Module, tokenizer: PreTrainedTokenizerBase, config: PolicyConfig):
        super().__init__()
        self.config = config
        self.template = config.template
        self.tokenizer = tokenizer
        self.model = model
        lm = causal_lm(model)
        self.labels: list[str] = config.label_list()
        probe = self.template.render("state", ["action"], self.labels[:1])
        self.label_token_ids: list[int] = check_single_token_labels(tokenizer, probe, self.labels)
        positions = getattr(lm.config, "max_position_embeddings", None)
        if positions is not None and config.max_prompt_tokens > positions:
            raise ValueError(
                f"max_prompt_tokens={config.max_prompt_tokens} exceeds the model's {positions} positions; "
                f"set PolicyConfig.max_prompt_tokens <= {positions}."
            )
        hidden = lm.config.hidden_size
        with torch.random.fork_rng(devices=[]):  # built on the CPU, then moved
            torch.manual_seed(config.init_seed)
            if config.value_head == "linear":
                self.value_head = nn.Linear(hidden, 1)
            else:
                self.value_head = nn.Sequential(
                    nn.Linear(hidden, config.value_hidden_size), nn.Tanh(), nn.Linear(config.value_hidden_size, 1)
                )
        last = self.value_head if isinstance(self.value_head, nn.Linear) else self.value_head[-1]
        # A zero last layer makes the first value estimates 0 instead of noise scaled by the LM's hidden norm.
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.value_head.to(device=self.device, dtype=torch.float32)
        # Eval mode switches off dropout (the LM's and LoRA's, whose fresh modules start in train mode), so that
        # the log-probabilities of a rollout and of its PPO update agree. Call .train() to have dropout.
        self.eval()

    @property
    def device(self) -> torch.device:
        """The device of the LM's parameters."""
        return causal_lm(self.model).device

    @classmethod
    def from_config(cls, config: PolicyConfig) -> LMPolicy:
        """Load ``config.model``, add LoRA adapters when ``config.lora``, and build the policy."""
        model, tokenizer = load_model(config.model, device=config.device, dtype=config.dtype)
        if config.lora:
            model = apply_lora(
                model,
                r=config.lora_r,
                alpha=config.lora_alpha,
                dropout=config.lora_dropout,
                target_modules=config.lora_target_modules,
                seed=config.init_seed,
            )
        else:
            model.requires_grad_(True)
        return cls(model, tokenizer, config)

    # ----------------------------------------------------------------------------------------------
    # Prompts and encoding.

    def fit_prompt(self, state: str, actions: list[str], reflection: str | None) -> tuple[str, list[int]]:
        """The prompt and its token ids, the state cut by :func:`fit_state` to fit ``max_prompt_tokens``."""
        return fit_state(
            self.tokenizer,
            lambda cut: self.template.render(cut, actions, self.labels, reflection),
            state,
            self.config.max_prompt_tokens,
        )

    def prompts(
        self, states: list[str], actions: list[list[str]], reflections: list[str | None] | None = None
    ) -> list[str]:
        """The policy prompts, cut to ``max_prompt_tokens`` as :meth:`encode` cuts them."""
        reflections = reflections or [None] * len(states)
        return [self.fit_prompt(s, a, r)[0] for s, a, r in zip(states, actions, reflections, strict=True)]

    def encode(
        self,
        states: list[str],
        actions: list[list[str]],
        reflections: list[str | None] | None = None,
        taken: list[list[str]] | None = None,
    ) -> PolicyBatch:
        """Encode states (``info["state"]``), their admissible actions and optional reflections (on CPU).

        A ``"scoring"`` policy's batch also holds every action's candidate tokens; see :meth:`encode_prompts`.
        ``taken`` (each state's episode's past actions, as strings) adds the repeat counts that
        ``config.repeat_penalty`` acts on.
        """
        batch = self.encode_prompts(states, actions, reflections)
        if self.config.decider == "scoring":
            candidates = [[self.candidate_tokens(action) for action in acts] for acts in actions]
            batch = with_candidates(batch, candidates, self.tokenizer.pad_token_id)
        if taken is not None:
            batch = dataclasses.replace(batch, repeats=repeat_counts(actions, taken))
        return batch

    def candidate_tokens(self, action: str) -> list[int]:
        """The token ids a ``"scoring"`` policy scores for ``action``: its text after a space, appended to the
        prompt's ids (as SFT also appends them)."""
        ids = self.tokenizer(f" {action}", add_special_tokens=False).input_ids
        if not ids:
            raise ValueError(f"Action {action!r} has no tokens; admissible actions must be non-empty text.")
        return ids

    def encode_prompts(
        self, states: list[str], actions: list[list[str]], reflections: list[str | None] | None = None
    ) -> PolicyBatch:
        """The prompts and labels of :meth:`encode`, without candidate tokens whatever the decider.

        Raises:
            ValueError: A state offers no action or more actions than there are labels.
        """
        reflections = reflections or [None] * len(states)
        if not len(states) == len(actions) == len(reflections):
            raise ValueError(f"Got {len(states)} states, {len(actions)} action lists, {len(reflections)} reflections.")
        for acts in actions:
            if not acts or len(acts) > len(self.labels):
                raise ValueError(
                    f"A state offers {len(acts)} actions; the policy handles 1..{len(self.labels)} (one per label). "
                    f"Build the env with max_actions={len(self.labels)} (e.g. gym.make(env_id, "
                    f"max_actions={len(self.labels)})), or pass more single-token labels in PolicyConfig.labels."
                )
        token_lists = [self.fit_prompt(s, a, r)[1] for s, a, r in zip(states, actions, reflections, strict=True)]
        input_ids, attention_mask = left_pad(token_lists, self.tokenizer.pad_token_id)
        width = max(len(a) for a in actions)
        label_ids = torch.zeros((len(states), width), dtype=torch.long)
        action_mask = torch.zeros((len(states), width), dtype=torch.bool)
        for row, acts in enumerate(actions):
            label_ids[row, : len(acts)] = torch.tensor(self.label_token_ids[: len(acts)])
            action_mask[row, : len(acts)] = True
        return PolicyBatch(input_ids, attention_mask, label_ids, action_mask)

    # ----------------------------------------------------------------------------------------------
    # Forward pass.

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast on the model's device when ``config.autocast``, else a no-op."""
        if self.config.autocast:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The LM's final hidden states ``(B, T, H)`` for left-padded token ids ``(B, T)``."""
        body = causal_lm(self.model).base_model
        with self.autocast():
            out = body(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=position_ids_from(attention_mask),
                use_cache=False,
            )
        return out.last_hidden_state

    def last_hidden_state(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The final hidden state ``(B, H)`` at the last position of left-padded prompts."""
        return self.hidden_states(input_ids, attention_mask)[:, -1]  # (B, H)

    @contextlib.contextmanager
    def keeping_frozen_states(self, batch: PolicyBatch) -> Iterator[list[PolicyBatch]]:
        """Within this context, a forward pass of ``batch`` appends to the yielded list ``batch`` with the hidden
        states its frozen leading blocks computed (:attr:`PolicyBatch.frozen_hidden`, on the CPU), for later passes
        over it to start after those blocks (:mod:`reflect_agent.frozen_blocks`). Nothing is kept when no leading
        block is frozen (the list stays empty)."""
        count = frozen_block_count(causal_lm(self.model))
        kept: list[PolicyBatch] = []
        if not count:
            yield kept
            return
        with recording(causal_lm(self.model), count) as hidden:
            yield kept
        if len(hidden) != 1 or hidden[0].shape[:2] != (len(batch), batch.width):
            raise RuntimeError(
                f"keeping_frozen_states expects one forward pass of its batch ({len(batch)} rows of {batch.width} "
                f"tokens); it saw {[tuple(h.shape[:2]) for h in hidden]}."
            )
        kept.append(dataclasses.replace(batch, frozen_hidden=hidden[0].cpu(), frozen_blocks=count))

    def forward(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Action log-probabilities ``(B, A)`` (masked, tempered) and values ``(B,)``, from one forward pass."""
        scores, value = self.scores_and_values(batch)
        return self.logprobs(scores, batch), value

    def logprobs(self, scores: torch.Tensor, batch: PolicyBatch) -> torch.Tensor:
        """The action log-probabilities ``(B, A)`` of untempered ``scores`` ``(B, A)``: repeat penalty, temperature,
        and a softmax over each row's admissible actions."""
        return masked_log_softmax(self.tempered(scores, batch), batch.action_mask.to(scores.device))

    def scores_and_values(self, batch: PolicyBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Untempered action scores ``(B, A)`` and values ``(B,)`` from one forward pass: what the LM gives for the
        prompts alone, before the repeat penalty and the temperature (:meth:`logprobs`).

        A batch with candidates (a ``"scoring"`` policy's) is scored by :func:`reflect_agent.scoring.candidate_scores`;
        any other by the labels' logits (:func:`reflect_agent.scoring.label_logits`). A batch holding its frozen
        blocks' hidden states runs only the blocks after them.
        """
        batch = batch.to(self.device)
        lm = causal_lm(self.model)
        skip_frozen = (
            contextlib.nullcontext()
            if batch.frozen_hidden is None
            else resuming(lm, batch.frozen_blocks, batch.frozen_hidden)
        )
        with skip_frozen:
            if batch.has_candidates:
                scores, hidden = candidate_scores(lm, batch, self.autocast)  # (B, A), (B, H)
            else:
                hidden = self.last_hidden_state(batch.input_ids, batch.attention_mask)  # (B, H)
                scores = label_logits(lm, hidden, batch.label_ids, self.autocast)  # (B, A)
        return scores, self.value_head(hidden.float()).squeeze(-1)  # (B, A), (B,)

    def tempered(self, scores: torch.Tensor, batch: PolicyBatch) -> torch.Tensor:
        """The logits of the action distribution: ``scores`` ``(B, A)`` less the repeat penalty, over the temperature.

        ``config.repeat_penalty`` comes off once per past use of an action where ``batch`` counts them.
        """
        if batch.repeats is not None and self.config.repeat_penalty:
            scores = scores - self.config.repeat_penalty * batch.repeats.to(scores.device, scores.dtype)
        return scores / self.config.temperature

    def get_action_and_value(
        self, batch: PolicyBatch, action: torch.Tensor | None = None, *, greedy: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample (or take the argmax, or score the given) actions; one forward pass for all actions.

        Args:
            batch: From :meth:`encode` (any device).
            action: ``(B,)`` actions to score; ``None`` samples them (or takes the argmax with ``greedy``).
            greedy: Take the most likely action instead of sampling.

        Returns:
            ``(action (B,) long, logprob (B,), entropy (B,), value (B,))``, on the policy's device.
        """
        logprobs, value = self(batch)  # (B, A), (B,)
        action, logprob, entropy = choose_actions(logprobs, batch.action_mask.to(self.device), action, greedy=greedy)
        return action, logprob, entropy, value

    @torch.no_grad()
    def act(
        self,
        states: list[str],
        actions: list[list[str]],
        reflections: list[str | None] | None = None,
        *,
        greedy: bool = False,
        taken: list[list[str]] | None = None,
    ) -> list[int]:
        """Choose one action index per state (no gradients), by ``config.decider``; ``taken`` as in :meth:`encode`."""
        batch = self.encode(states, actions, reflections, taken)
        action, _, _, _ = self.get_action_and_value(batch, greedy=greedy)
        return action.tolist()

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The parameters that receive gradients: LoRA adapters (or the whole LM) and the value head."""
        return [p for p in self.parameters() if p.requires_grad]

    # ----------------------------------------------------------------------------------------------
    # Checkpoints.

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the config, the LoRA adapters (or the whole LM without LoRA) and the value head to folder ``path``.

        The folder is written atomically (:func:`reflect_gym.files.atomic_directory`) and replaces an earlier
        policy saved there; any other existing file or folder at ``path`` is refused unless ``overwrite``.
        """
        path = Path(path)
        owned = lambda existing: (existing / _CONFIG_FILE).is_file()  # noqa: E731  (an earlier save)
        with atomic_directory(path, overwrite=overwrite, owned=owned) as folder:
            config = dataclasses.asdict(self.config)
            (folder / _CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
            if isinstance(self.model, PeftModel):
                self.model.save_pretrained(folder / _ADAPTER_DIR)
            else:
                self.model.save_pretrained(folder / _MODEL_DIR)
                self.tokenizer.save_pretrained(folder / _MODEL_DIR)
            save_file({k: v.contiguous() for k, v in self.value_head.state_dict().items()}, folder / _VALUE_HEAD_FILE)
        return path

    @classmethod
    def load(
        cls, path: str | os.PathLike, *, device: str | None = None, dtype: str | None = None, trainable: bool = True
    ) -> LMPolicy:
        """Rebuild a policy saved by :meth:`save`.

        Args:
            path: The checkpoint folder.
            device: Override the saved device (``None`` keeps the saved choice).
            dtype: Override the saved dtype.
            trainable: Leave the adapters trainable (for more training) or frozen (for evaluation).
        """
        path = Path(path)
        if not (path / _CONFIG_FILE).is_file():
            raise FileNotFoundError(
                f"{path} is not a policy checkpoint (no {_CONFIG_FILE}); pass a folder written by LMPolicy.save."
            )
        config = PolicyConfig(**read_file(path / _CONFIG_FILE, lambda file: json.loads(file.read_text())))
        if device is not None:
            config.device = device
        if dtype is not None:
            config.dtype = dtype
        if (path / _ADAPTER_DIR).is_dir():
            model, tokenizer = load_model(config.model, device=config.device, dtype=config.dtype)
            model = read_file(path / _ADAPTER_DIR, lambda folder: load_lora(model, folder, trainable=trainable))
        else:
            model, tokenizer = load_model(str(path / _MODEL_DIR), device=config.device, dtype=config.dtype)
            model.requires_grad_(trainable)
        policy = cls(model, tokenizer, config)
        weights = read_file(path / _VALUE_HEAD_FILE, lambda file: load_file(file, device=str(policy.device)))
        read_file(path / _VALUE_HEAD_FILE, lambda file: policy.value_head.load_state_dict(weights))
        policy.value_head.requires_grad_(trainable)
        return policy
