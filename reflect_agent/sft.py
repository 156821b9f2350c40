"""Supervised warm-up of the policy and the reflector, with transformers' ``Trainer`` and LoRA.

Both roles train on warm-up records (:mod:`reflect_agent.warmup`) turned into examples by
:mod:`reflect_agent.sft_examples`, with a completion-only loss: the prompt's tokens are labelled ``-100`` and
only the completion is learned. With ``SFTConfig.objective="policy"`` the policy's loss is instead the expert
action's negative log-likelihood under the policy's own action distribution (:class:`PolicyObjectiveTrainer`):
the softmax over the admissible actions that RL samples from, so the other admissible actions of each state
serve as negatives.

The ``Trainer`` runs the loop (shuffling, AdamW, schedule, gradient accumulation, clipping, seeding,
logging); :class:`CompletionOnlyTrainer` only replaces the loss: it runs the transformer body once and
applies the LM head to the completion positions alone, instead of the default loss that computes the
full-vocabulary logits of every prompt position and discards them.

Under ``accelerate launch`` the ``Trainer`` is data-parallel: each process takes ``batch_size / N`` examples of
every batch, so the global batch and the trained weights are a one-process run's (up to float rounding). Both
losses call parts of the model rather than the forward of the ``Trainer``'s DDP wrapper, which therefore cannot
average the gradients; :class:`DataParallelLossTrainer` averages them itself before clipping. With a DeepSpeed or
FSDP launch config, the completion loss goes through the wrapped model's own forward instead (HF's causal LM loss,
with full-vocabulary logits), and the policy objective is refused.

Command line (policy or reflector from a data file)::

    reflect-rl sft --data data/taxi.jsonl --role reflector --out runs/sft-reflector
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors import safe_open
from torch import nn
from transformers import PreTrainedTokenizerBase, Trainer, TrainingArguments
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from reflect_agent.checkpoint import DAMAGE_ERRORS, CheckpointWarning, atomic_write_json
from reflect_agent.distributed import Processes
from reflect_agent.frozen_blocks import dropout_free, frozen_block_count, recording, resuming
from reflect_agent.models import apply_lora, load_model
from reflect_agent.policy import LMPolicy, causal_lm
from reflect_agent.prompts import PromptTemplate
from reflect_agent.sft_examples import (
    IGNORE_INDEX,
    CompletionCollator,
    choice_examples,
    collate_choices,
    policy_examples,
    reflector_examples,
)
from reflect_agent.tensors import PolicyBatch, position_ids_from
from reflect_agent.warmup import StepRecord
from reflect_gym.files import atomic_directory


@dataclass
class SFTConfig:
    """Supervised fine-tuning settings (one role at a time).

    Attributes:
        epochs: Passes over the examples (fractions allowed); ignored when ``max_steps`` > 0.
        max_steps: Optimizer steps to take; ``-1`` means ``epochs`` decides.
        batch_size: Examples per forward pass, over all processes: under ``accelerate launch`` each of N processes
            takes ``batch_size / N`` of them, so a launch trains as one process does.
        gradient_accumulation_steps: Forward passes per optimizer step.
        learning_rate: Peak AdamW learning rate (the paper: 2e-4).
        lr_scheduler: ``Trainer`` schedule name (``"linear"``, ``"constant"``, ``"cosine"``...).
        warmup_steps: Linear warm-up steps.
        weight_decay: AdamW weight decay.
        max_grad_norm: Gradient clipping norm.
        autocast: Run forward passes under bf16 autocast (CPU or CUDA).
        seed: Seeds the ``Trainer`` (shuffling, LoRA dropout) and the new LoRA adapters of :func:`sft_reflector`.
        logging_steps: Log the loss every this many steps.
        reflection_prob: For the policy: share of examples whose prompt includes the record's reflection
            (the rest have none), so the policy also acts when the reflector is skipped or weak.
        save_steps: Steps between checkpoints when training into a checkpoint folder (see
            :func:`train_completions`).
        objective: For the policy. ``"completion"``: the cross-entropy of the completion tokens over the whole
            vocabulary (the expert action's label token, or a scoring policy's action text). ``"policy"``: the
            negative log-likelihood of the expert action under the policy's own action distribution (the
            softmax over the admissible labels, or over the scored action texts), which pushes every other
            admissible action down: behaviour cloning of the very distribution that RL samples from.
        label_smoothing: With the policy objective: the target puts ``1 - label_smoothing`` on the expert action and
            spreads the rest over the admissible actions, so the warmed-up policy keeps some entropy and RL's samples
            from one state can differ (0: plain behaviour cloning, which leaves a near-deterministic policy).
        group_by_length: Batch examples of similar length (the ``Trainer``'s ``LengthGroupedSampler``:
            shuffled, then sorted within chunks of ~50 batches) instead of uniformly at random, so batches,
            padded to their longest example, carry less padding when lengths vary.
        gradient_checkpointing: Keep only each block's input during the forward pass and recompute the rest in
            the backward pass (the ``Trainer``'s, non-reentrant): less memory for more compute, for LoRA on every
            block with long prompts.
        frozen_activations_gib: CPU memory (GiB, per process) for the hidden states that the model's frozen leading
            blocks compute for each example on its first pass, from which later passes over it run only the
            trainable blocks (:class:`FrozenActivations`); 0 turns it off. Used when LoRA leaves leading blocks
            frozen, the run passes over its examples more than once, those blocks have no dropout and gradient
            checkpointing is off. The same training up to float rounding (also across a resume, which starts the
            store afresh).
    """

    epochs: float = 2.0
    max_steps: int = -1
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    learning_rate: float = 2e-4
    lr_scheduler: str = "linear"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    autocast: bool = False
    seed: int = 0
    logging_steps: int = 10
    reflection_prob: float = 1.0
    save_steps: int = 20
    objective: Literal["completion", "policy"] = "completion"
    label_smoothing: float = 0.0
    group_by_length: bool = False
    gradient_checkpointing: bool = False
    frozen_activations_gib: float = 2.0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.gradient_accumulation_steps < 1:
            raise ValueError(
                f"batch_size and gradient_accumulation_steps must be >= 1, got {self.batch_size} and "
                f"{self.gradient_accumulation_steps}."
            )
        if self.max_steps <= 0 and self.epochs <= 0:
            raise ValueError(f"Set epochs > 0 or max_steps > 0 (got epochs={self.epochs}, max_steps={self.max_steps}).")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must lie in [0, 1), got {self.label_smoothing}.")
        if not 0.0 <= self.reflection_prob <= 1.0:
            raise ValueError(f"reflection_prob must lie in [0, 1], got {self.reflection_prob}.")
        if self.save_steps < 1:
            raise ValueError(f"save_steps must be >= 1, got {self.save_steps}.")
        if self.objective not in ("completion", "policy"):
            raise ValueError(f"objective must be 'completion' or 'policy', got {self.objective!r}.")
        if self.frozen_activations_gib < 0:
            raise ValueError(
                f"frozen_activations_gib must be >= 0 (0 turns it off), got {self.frozen_activations_gib}."
            )


# --------------------------------------------------------------------------------------------------
# Examples.


class FrozenActivations:
    """What the model's frozen leading blocks computed for each training example, kept from its first pass for the
    later ones.

    With LoRA on the last blocks only, the blocks before the first adapter compute the same for an example on every
    pass over it (:mod:`reflect_agent.frozen_blocks`); a later pass feeds the kept hidden states to the first
    trainable block and runs only the blocks from there. Kept by example index up to ``max_bytes`` (in each process
    of a launch); a batch starts from kept states only when all of its examples have them, so a budget that holds
    only part of the examples saves little (a batch of 8 from a set half kept is whole one time in 256).

    Attributes:
        count: The frozen leading blocks.
        max_bytes: The most bytes kept.
        nbytes: The bytes kept.
        batches_resumed: Forward passes that started from kept states.
    """

    def __init__(self, count: int, max_bytes: int) -> None:
        self.count, self.max_bytes = count, max_bytes
        self.nbytes = self.batches_resumed = 0
        self._kept: dict[int, Any] = {}

    @classmethod
    def for_run(cls, model: nn.Module, config: SFTConfig, examples: int) -> FrozenActivations | None:
        """A store for training ``model`` on ``examples`` examples by ``config``, or ``None`` where it cannot help
        (``config.frozen_activations_gib`` 0, no example trained on twice, no frozen leading block, dropout in
        them, or gradient checkpointing, whose recomputation would run the skipped blocks' input)."""
        seen = (
            config.max_steps * config.batch_size * config.gradient_accumulation_steps
            if config.max_steps > 0
            else config.epochs * examples
        )
        if config.frozen_activations_gib <= 0 or config.gradient_checkpointing or seen <= examples:
            return None
        lm = causal_lm(model)
        count = frozen_block_count(lm)
        if not count or not dropout_free(lm, count):
            return None
        return cls(count, int(config.frozen_activations_gib * 2**30))

    def get(self, indices: list[int]) -> list[Any] | None:
        """The items kept for every one of ``indices``, or ``None`` if one has none."""
        if not all(index in self._kept for index in indices):
            return None
        self.batches_resumed += 1
        return [self._kept[index] for index in indices]

    def wants(self, index: int, nbytes: int) -> bool:
        """Whether example ``index`` is not kept yet and ``nbytes`` more fit in ``max_bytes``."""
        return index not in self._kept and self.nbytes + nbytes <= self.max_bytes

    def wants_any(self, indices: list[int]) -> bool:
        """Whether one of ``indices`` is not kept yet while some room is left: worth recording a pass for."""
        return self.nbytes < self.max_bytes and any(index not in self._kept for index in indices)

    def put(self, index: int, item: Any, nbytes: int) -> None:
        """Keep ``item`` (``nbytes`` bytes) for example ``index`` if :meth:`wants` it."""
        if self.wants(index, nbytes):
            self._kept[index] = item
            self.nbytes += nbytes


class DataParallelLossTrainer(Trainer):
    """A ``Trainer`` whose loss calls the model's parts directly, with the gradients averaged over the processes here.

    DDP averages gradients in hooks that its own forward arms, and these losses do not run through it; so on the last
    micro-batch before each optimizer step the gradients of the trainable weights are averaged over the processes
    (:meth:`reflect_agent.distributed.Processes.reduce_gradients`), before the ``Trainer`` clips them. One process,
    DeepSpeed (which reduces gradients in its own hooks) and a loss that runs through the wrapper leave them alone.
    """

    #: Whether :meth:`compute_loss` runs through the wrapped model's forward (whose engine then reduces gradients).
    through_wrapper = False

    def __init__(self, *args: Any, frozen: FrozenActivations | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.frozen = frozen

    def kept_states(self, indices: list[int] | None) -> tuple[list[Any] | None, bool]:
        """For a batch of examples ``indices``: their kept items when all have them (else ``None``), and whether
        its pass should record the frozen blocks' output (nothing to resume from, something left to keep)."""
        if self.frozen is None or indices is None:
            return None, False
        kept = self.frozen.get(indices)
        return kept, kept is None and self.frozen.wants_any(indices)

    def training_step(
        self, model: nn.Module, inputs: dict[str, Any], num_items_in_batch: torch.Tensor | int | None = None
    ) -> torch.Tensor:
        loss = super().training_step(model, inputs, num_items_in_batch)
        if (
            self.accelerator.num_processes > 1
            and self.accelerator.sync_gradients
            and not self.is_deepspeed_enabled
            and not self.through_wrapper
        ):
            processes = Processes(
                self.accelerator.process_index, self.accelerator.num_processes, str(self.accelerator.device)
            )
            processes.reduce_gradients((p for p in self.model.parameters() if p.requires_grad), average=True)
        return loss


class CompletionOnlyTrainer(DataParallelLossTrainer):
    """A ``Trainer`` whose loss is the cross-entropy of the completion tokens alone.

    The LM head runs only where a label is set, so no full-vocabulary logits are built for the prompt.
    Position ids count real tokens (left padding shifts nothing), as in :class:`LMPolicy`. Under DeepSpeed or FSDP,
    which own the model's weights, the loss is the wrapped model's own (the same value, with full logits).
    """

    def __init__(self, *args: Any, autocast: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.autocast = autocast
        self.through_wrapper = self.is_deepspeed_enabled or self.is_fsdp_enabled

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        inputs = dict(inputs)
        indices = inputs.pop("index", None)  # the examples' places in the dataset, with FrozenActivations
        attention_mask = inputs["attention_mask"]
        device = inputs["input_ids"].device
        context = torch.autocast(device.type, dtype=torch.bfloat16) if self.autocast else contextlib.nullcontext()
        if self.through_wrapper:
            inputs = {**inputs, "position_ids": position_ids_from(attention_mask), "use_cache": False}
            with context:
                loss = super().compute_loss(model, inputs, num_items_in_batch=num_items_in_batch)
            self._check_finite(loss, int((inputs["labels"][:, 1:] != IGNORE_INDEX).sum()))
            return (loss, None) if return_outputs else loss
        lm = causal_lm(self.accelerator.unwrap_model(model))
        frozen, (kept, record) = self.frozen, self.kept_states(indices)
        width = attention_mask.shape[1]
        if kept is not None:  # each example's kept (L, H), left-padded as its tokens are
            start = torch.stack([nn.functional.pad(h, (0, 0, width - len(h), 0)) for h in kept]).to(device)
            skip = resuming(lm, frozen.count, start)  # (B, T, H)
        else:
            skip = recording(lm, frozen.count) if record else contextlib.nullcontext()
        with context, skip as recorded:
            hidden = lm.base_model(
                input_ids=inputs["input_ids"],
                attention_mask=attention_mask,
                position_ids=position_ids_from(attention_mask),
                use_cache=False,
            ).last_hidden_state  # (B, T, H)
            targets = inputs["labels"][:, 1:]  # (B, T-1): the token each position predicts
            chosen = targets != IGNORE_INDEX  # (B, T-1)
            logits = lm.get_output_embeddings()(hidden[:, :-1][chosen])  # (K, V)
        if record:
            for row, (index, length) in enumerate(zip(indices, attention_mask.sum(1).tolist(), strict=True)):
                h = recorded[0][row, width - length :]  # (L, H): the example's own tokens
                if frozen.wants(index, h.nbytes):
                    frozen.put(index, h.to("cpu", copy=True), h.nbytes)
        loss = nn.functional.cross_entropy(logits.float(), targets[chosen], reduction="sum")
        count = num_items_in_batch if num_items_in_batch is not None else chosen.sum()
        loss = loss / count
        if num_items_in_batch is not None and self.args.average_tokens_across_devices and self.args.world_size > 1:
            # The count covers every process's tokens and the gradients are averaged: scale as the Trainer's loss does.
            loss = loss * self.accelerator.num_processes
        self._check_finite(loss, int(chosen.sum()))
        return (loss, None) if return_outputs else loss

    def _check_finite(self, loss: torch.Tensor, tokens: int) -> None:
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"SFT loss is {loss.item()} at step {self.state.global_step} over {tokens} completion tokens; lower the "
                "learning rate or turn autocast off."
            )


class PolicyObjectiveTrainer(DataParallelLossTrainer):
    """A ``Trainer`` whose loss is the negative log-likelihood of the expert actions under ``policy``'s own action
    distribution (one forward pass per batch, by the policy's decider).

    Raises:
        ValueError: A DeepSpeed or FSDP launch, whose sharded weights the policy's forward cannot read.
    """

    def __init__(
        self, *args: Any, policy: LMPolicy, autocast: bool = False, label_smoothing: float = 0.0, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        if self.is_deepspeed_enabled or self.is_fsdp_enabled:
            raise ValueError(
                "The policy objective runs the policy's own forward pass, which cannot read weights that DeepSpeed or "
                "FSDP own: launch with a DDP config (configs/accelerate/ddp_bf16.yaml), or use objective 'completion'."
            )
        self.policy = policy
        self.autocast = autocast
        self.label_smoothing = label_smoothing

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        device = self.policy.device
        context = torch.autocast(device.type, dtype=torch.bfloat16) if self.autocast else contextlib.nullcontext()
        batch, indices = inputs["batch"], inputs.get("index")
        frozen, (kept, record) = self.frozen, self.kept_states(indices)
        if kept is not None:  # the same rows, holding their frozen blocks' hidden states
            batch = PolicyBatch.cat(kept)
        keeping = self.policy.keeping_frozen_states(batch) if record else contextlib.nullcontext([])
        with context, keeping as recorded:
            logprobs, _ = self.policy(batch)  # (B, A)
        for row, index in enumerate(indices if recorded else []):
            one = recorded[0][row].to("cpu")  # the row alone (its frozen states are on the CPU already)
            if frozen.wants(index, one.frozen_hidden.nbytes):  # copied out of the batch's states
                frozen.put(
                    index, dataclasses.replace(one, frozen_hidden=one.frozen_hidden.clone()), one.frozen_hidden.nbytes
                )
        actions = inputs["actions"].to(device)
        loss = -logprobs.gather(1, actions.unsqueeze(1)).squeeze(1)  # (B,)
        if self.label_smoothing:
            # Cross-entropy against (1 - eps) on the expert action and eps spread over the admissible ones.
            mask = batch.action_mask.to(device)  # (B, A)
            spread = -logprobs.masked_fill(~mask, 0.0).sum(1) / mask.sum(1)  # (B,)
            loss = (1 - self.label_smoothing) * loss + self.label_smoothing * spread
        loss = loss.mean()
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"SFT loss is {loss.item()} at step {self.state.global_step}; lower the learning rate or turn "
                "autocast off."
            )
        return (loss, None) if return_outputs else loss


# --------------------------------------------------------------------------------------------------
# Training.


@dataclass
class SFTResult:
    """What one supervised run did.

    ``train_loss`` and ``seconds`` cover the steps this call trained: after ``resumed_from`` when it resumed
    from a checkpoint. ``losses`` (the logged losses) covers the whole run.
    """

    examples: int
    steps: int
    train_loss: float
    seconds: float
    losses: list[float] = field(default_factory=list)
    resumed_from: int = 0


def checkpoint_damage(checkpoint: Path, processes: int = 1) -> str | None:
    """Why the ``Trainer`` checkpoint folder ``checkpoint`` cannot be resumed from, or ``None`` when it reads whole.

    Cheap checks that catch a cut-off or overwritten file without loading the weights: the state file parses, each
    safetensors file's header covers the file, and each pickle archive (optimizer, schedule, random states) has its
    zip directory, which is written last. A checkpoint of ``processes`` > 1 processes also needs each process's random
    states, which each process writes for itself (the main process may finish the checkpoint before another does).
    """
    state = checkpoint / TRAINER_STATE_NAME
    try:
        saved = json.loads(state.read_text())
        if not isinstance(saved, dict) or not isinstance(saved.get("global_step"), int):
            return f"{state} has no global_step"
        if processes > 1:
            missing = [rank for rank in range(processes) if not (checkpoint / f"rng_state_{rank}.pth").is_file()]
            if missing:
                return f"{checkpoint} has no random states of process {missing[0]} (it was cut off while saving)"
        for weights in checkpoint.glob("*.safetensors"):
            with safe_open(weights, framework="pt"):
                pass
        for archive in [*checkpoint.glob("*.pt"), *checkpoint.glob("*.pth")]:
            with zipfile.ZipFile(archive):
                pass
    except FileNotFoundError:
        return f"{state} is missing (the checkpoint was cut off while saving)"
    except (*DAMAGE_ERRORS, zipfile.BadZipFile) as error:
        return f"a file cannot be read ({type(error).__name__}: {error})"
    return None


def last_complete_checkpoint(folder: str | os.PathLike, processes: int = 1) -> Path | None:
    """The newest ``checkpoint-<step>`` folder in ``folder`` that the ``Trainer`` finished writing and that reads whole.

    The ``Trainer`` writes its state file last, so a checkpoint cut off while saving has none and is skipped; one
    damaged after the fact (:func:`checkpoint_damage` for ``processes`` processes) is skipped with a warning, for the
    one before it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    numbered = [path for path in folder.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if path.name.split("-")[-1].isdigit()]
    for checkpoint in sorted(numbered, key=lambda path: int(path.name.split("-")[-1]), reverse=True):
        damage = checkpoint_damage(checkpoint, processes)
        if damage is None:
            return checkpoint
        if (checkpoint / TRAINER_STATE_NAME).is_file():  # finished, then damaged: say so
            warnings.warn(
                f"SFT checkpoint {checkpoint} is damaged: {damage}; trying an older one.",
                CheckpointWarning,
                stacklevel=2,
            )
    return None


#: SFTConfig fields that change how fast a run trains, not what it trains (up to float rounding).
SPEED_SETTINGS = frozenset({"frozen_activations_gib"})


def trained_settings(config: SFTConfig) -> dict[str, Any]:
    """``config`` as a dict without :data:`SPEED_SETTINGS`: what a warmed-up model depends on."""
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in SPEED_SETTINGS}


def check_resumable(
    checkpoint_dir: Path, examples: list[dict[str, list[int]]], config: SFTConfig, processes: int = 1
) -> None:
    """Record the run's settings in ``checkpoint_dir``, or check that they match the ones recorded there.

    ``processes`` is recorded too: each process resumes its own random states, so a warm-up continues with as many
    processes as it started with (a record without it is of one process).

    Raises:
        ValueError: The folder holds checkpoints of a warm-up with other examples or settings, or of another number
            of processes.
    """
    digest = hashlib.sha256(json.dumps([e["input_ids"] for e in examples]).encode()).hexdigest()
    ignored = {"logging_steps", "save_steps", *SPEED_SETTINGS}  # free to change between the parts of a run
    settings = {"examples": digest, **{k: v for k, v in dataclasses.asdict(config).items() if k not in ignored}}
    settings["processes"] = processes
    path = checkpoint_dir / "settings.json"
    if not path.is_file():
        atomic_write_json(path, settings)
        return
    recorded = {"processes": 1, **json.loads(path.read_text())}
    if recorded["processes"] != processes:
        raise ValueError(
            f"{checkpoint_dir} holds checkpoints of a warm-up by {recorded['processes']} process(es), and this launch "
            f"has {processes}. Each process resumes its own random states: launch {recorded['processes']} (accelerate "
            "launch --num_processes N, or no launcher for 1) to resume it, or delete the folder to start over."
        )
    changed = sorted(key for key in settings.keys() | recorded.keys() if settings.get(key) != recorded.get(key))
    if changed:
        raise ValueError(
            f"{checkpoint_dir} holds checkpoints of a warm-up with other {', '.join(changed)}. Run with the same "
            "data and settings to resume it, or delete the folder to start over."
        )


def checkpoints_next_to(out: str | os.PathLike) -> Path:
    """The checkpoint folder of a warm-up whose result is saved to ``out``: ``<out>.checkpoints``."""
    return Path(f"{os.fspath(out).rstrip('/')}.checkpoints")


def summary(result: SFTResult) -> str:
    """One line on ``result``: steps, loss and time (per step of this call), and any resumption."""
    trained = result.steps - result.resumed_from
    text = f"{result.steps} steps, loss {result.train_loss:.3f}, {result.seconds:.0f} s"
    text += f" ({result.seconds / max(trained, 1):.1f} s/step)"
    if result.resumed_from:
        text += f", resumed at step {result.resumed_from} (loss and time: the last {trained} steps)"
    return text


def train_completions(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    examples: list[dict[str, list[int]]],
    config: SFTConfig,
    *,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> SFTResult:
    """Fine-tune ``model`` (usually LoRA-wrapped) on completion examples with :class:`CompletionOnlyTrainer`.

    :func:`train_examples` with that trainer; see there.
    """
    return train_examples(
        model,
        examples,
        config,
        CompletionOnlyTrainer,
        CompletionCollator(tokenizer.pad_token_id),
        checkpoint_dir=checkpoint_dir,
        progress=progress,
    )


def train_examples(
    model: nn.Module,
    examples: list[dict[str, Any]],
    config: SFTConfig,
    trainer_class: type[Trainer],
    collator: Callable[[list[dict[str, Any]]], dict[str, Any]],
    *,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
    **trainer_options: Any,
) -> SFTResult:
    """Fine-tune ``model`` on ``examples`` (each with its prompt's ``input_ids``) with a ``Trainer`` subclass.

    Args:
        model: The model whose trainable weights are updated (and checkpointed).
        examples: The training examples; ``input_ids`` sets their length for ``group_by_length`` and identifies
            them for :func:`check_resumable`.
        config: Training settings.
        trainer_class: :class:`CompletionOnlyTrainer` or :class:`PolicyObjectiveTrainer` (it takes ``autocast``).
        collator: Turns a list of examples into the trainer's inputs.
        checkpoint_dir: Where checkpoints go (see below).
        progress: Show the ``Trainer``'s progress bar.
        trainer_options: More keyword arguments of ``trainer_class``.

    With ``checkpoint_dir``, the ``Trainer`` saves a checkpoint there every ``config.save_steps`` steps
    (the trainable weights, optimizer, schedule, RNG states and data position; the newest is kept), and a
    call that finds a complete one resumes from it: an interrupted warm-up run again with the same
    examples and ``config`` continues where it stopped (other examples or settings are an error, see
    :func:`check_resumable`). Delete the folder once the trained weights are saved.
    Without one, nothing is written (a temporary folder holds the ``Trainer``'s scratch files).

    The model is left in eval mode afterwards.
    """
    if not examples:
        raise ValueError("No SFT examples; generate warm-up records first (reflect_agent.data).")
    use_cpu = next(model.parameters()).device.type == "cpu"
    processes = Processes.start(cpu=use_cpu)
    if config.batch_size % processes.count:
        raise ValueError(
            f"batch_size ({config.batch_size}) must be a multiple of the number of processes ({processes.count}): each "
            f"process takes batch_size / processes examples of every batch. Set batch_size to a multiple of "
            f"{processes.count}, or launch a number of processes that divides it."
        )
    with contextlib.ExitStack() as stack:
        if checkpoint_dir is None:
            # Each process's scratch folder of its own: nothing is saved in it.
            output_dir, resume = stack.enter_context(tempfile.TemporaryDirectory(prefix="sft-")), None
        else:
            output_dir = Path(checkpoint_dir)
            if processes.is_main:  # the others read the settings it recorded
                output_dir.mkdir(parents=True, exist_ok=True)
                check_resumable(output_dir, examples, config, processes.count)
            processes.wait()
            if not processes.is_main:
                check_resumable(output_dir, examples, config, processes.count)
            found = last_complete_checkpoint(output_dir, processes.count) if processes.is_main else None
            resume = processes.broadcast(found)
        args = TrainingArguments(
            output_dir=str(output_dir),
            num_train_epochs=config.epochs,
            max_steps=config.max_steps,
            per_device_train_batch_size=config.batch_size // processes.count,
            gradient_accumulation_steps=config.gradient_accumulation_steps,
            learning_rate=config.learning_rate,
            lr_scheduler_type=config.lr_scheduler,
            warmup_steps=config.warmup_steps,
            weight_decay=config.weight_decay,
            max_grad_norm=config.max_grad_norm,
            logging_steps=config.logging_steps,
            save_strategy="no" if checkpoint_dir is None else "steps",
            save_steps=config.save_steps,
            save_total_limit=2,  # the older one is the fallback if the newest is damaged
            train_sampling_strategy="group_by_length" if config.group_by_length else "random",
            **_checkpointing_arguments(config.gradient_checkpointing),
            report_to="none",
            seed=config.seed,
            data_seed=config.seed,
            use_cpu=use_cpu,
            disable_tqdm=not progress,
            remove_unused_columns=False,
            dataloader_num_workers=0,
        )
        frozen = FrozenActivations.for_run(model, config, len(examples))
        trainer = trainer_class(
            model=model,
            args=args,
            data_collator=collator,
            # With kept activations the collator passes each example's index on to the loss.
            train_dataset=examples if frozen is None else [{**e, "index": i} for i, e in enumerate(examples)],
            autocast=config.autocast,
            frozen=frozen,
            **trainer_options,
        )
        start = time.perf_counter()
        output = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
        seconds = time.perf_counter() - start
        processes.wait()  # every process has trained before any goes on to save or delete the checkpoints
    if config.gradient_checkpointing:  # the Trainer leaves it on; RL after SFT decides for itself
        disable = getattr(model, "activation_checkpointing_disable", None) or model.gradient_checkpointing_disable
        disable()
    model.eval()
    losses = [row["loss"] for row in trainer.state.log_history if "loss" in row]
    resumed_from = int(resume.name.split("-")[-1]) if resume else 0
    return SFTResult(len(examples), output.global_step, float(output.training_loss), seconds, losses, resumed_from)


def _checkpointing_arguments(enabled: bool) -> dict[str, Any]:
    """``TrainingArguments`` for (non-reentrant) gradient checkpointing, by the names of the installed transformers
    (``gradient_checkpointing`` became ``activation_checkpointing`` in 5.x)."""
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    prefix = "activation" if "activation_checkpointing" in names else "gradient"
    return {
        f"{prefix}_checkpointing": enabled,
        f"{prefix}_checkpointing_kwargs": {"use_reentrant": False} if enabled else None,
    }


def sft_policy(
    policy: LMPolicy,
    records: Sequence[StepRecord],
    config: SFTConfig,
    *,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> SFTResult:
    """Warm up ``policy`` (its LoRA adapters) on the expert's actions, by ``config.objective``: the completion
    tokens of :func:`policy_examples`, or the policy's own action distribution on :func:`choice_examples`.

    ``checkpoint_dir``: checkpoints, and resuming from them, as in :func:`train_examples`.
    """
    options = {"reflection_prob": config.reflection_prob, "seed": config.seed}
    if config.objective == "completion":
        examples = policy_examples(policy, records, **options)
        return train_completions(
            policy.model, policy.tokenizer, examples, config, checkpoint_dir=checkpoint_dir, progress=progress
        )
    return train_examples(
        policy.model,
        choice_examples(policy, records, **options),
        config,
        PolicyObjectiveTrainer,
        collate_choices,
        checkpoint_dir=checkpoint_dir,
        progress=progress,
        policy=policy,
        label_smoothing=config.label_smoothing,
    )


def sft_reflector(
    model_spec: str,
    records: Sequence[StepRecord],
    config: SFTConfig,
    adapter_dir: str | os.PathLike,
    *,
    template: PromptTemplate | None = None,
    lora_r: int = 8,
    lora_alpha: int = 16,
    lora_dropout: float = 0.05,
    lora_target_modules: list[str] | None = None,
    device: str | None = None,
    max_prompt_tokens: int = 1024,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> tuple[Path, SFTResult]:
    """Train a LoRA reflector on the records' reflections and save its adapter to ``adapter_dir``.

    Load it with ``ReflectorConfig(model=model_spec, adapter=adapter_dir)``. ``checkpoint_dir``: checkpoints,
    and resuming from them, as in :func:`train_completions`. An existing ``adapter_dir`` that is not an adapter
    folder is refused unless ``overwrite``.

    Returns:
        ``(adapter_dir, result)``.
    """
    template = template or PromptTemplate()
    model, tokenizer = load_model(model_spec, device=device)
    model = apply_lora(
        model, r=lora_r, alpha=lora_alpha, dropout=lora_dropout, target_modules=lora_target_modules, seed=config.seed
    )
    examples = reflector_examples(tokenizer, template, records, max_prompt_tokens=max_prompt_tokens)
    result = train_completions(model, tokenizer, examples, config, checkpoint_dir=checkpoint_dir, progress=progress)
    # An adapter folder saved earlier (by this function or peft) is the function's own to replace.
    owned = lambda existing: (existing / "adapter_config.json").is_file()  # noqa: E731  (an earlier adapter)
    processes = Processes.start(cpu=next(model.parameters()).device.type == "cpu")
    if processes.is_main:  # the replicas are equal: one writes
        with atomic_directory(adapter_dir, overwrite=overwrite, owned=owned) as folder:
            model.save_pretrained(folder)
    processes.wait()
    return Path(adapter_dir), result
