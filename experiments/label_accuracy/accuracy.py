"""How often a policy picks the expert's action on warm-up records of seeds it was not trained on.

    python -m experiments.label_accuracy.accuracy --data runs/<name>/warmup.jsonl
    python -m experiments.label_accuracy.accuracy --data runs/<name>/warmup.jsonl --template.action-line "{action} -> {label}"
    python -m experiments.label_accuracy.accuracy --data runs/<name>/warmup.jsonl --decider scoring

A cheap check of a prompt or an SFT recipe before a run of episodes. The records of every ``held_out_every``-th
seed are held out; the policy is scored on their expert steps (greedy, prompts without reflections), warmed up on
the other seeds' records, and scored again, on the held-out steps and on as many training steps. Each score
comes with the accuracy per command (the action's first word: ``cd``, ``cat``, ``id`` on FileQA), the share
of picks that are the first label, and the chance accuracy of a uniform pick.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.prompts import PromptTemplate
from reflect_agent.sft import SFTConfig, sft_policy
from reflect_agent.warmup import StepRecord, read_jsonl


@dataclass
class Args:
    """Score a policy on held-out warm-up records, before and after SFT on the rest."""

    data: Path
    """Warm-up records (``warmup.jsonl`` of a ``reflect-rl train`` run, or ``reflect-rl data``)."""
    model: str = "smollm2"
    """Base model (``reflect_agent.models.load_model`` spec)."""
    template: PromptTemplate = field(default_factory=PromptTemplate)
    """The policy's prompt template."""
    decider: Literal["labels", "scoring"] = "labels"
    """``labels``: the label of each action after the prompt; ``scoring``: each action's text (SFT learns it)."""
    max_prompt_tokens: int = 640
    """Prompt limit (longer states are cut, their first paragraph kept)."""
    lora_layers: int | None = 10
    """LoRA on the last this many blocks (``None``: all)."""
    sft: SFTConfig = field(
        default_factory=lambda: SFTConfig(epochs=2.0, learning_rate=3e-3, autocast=True, reflection_prob=0.0)
    )
    """The warm-up (the main job's policy SFT, without reflections)."""
    held_out_every: int = 4
    """Hold out the records of every this-many-th seed (in sorted order)."""
    out: Path | None = None
    """Also write the result as JSON here."""


def split_by_seed(records: Sequence[StepRecord], every: int) -> tuple[list[StepRecord], list[StepRecord]]:
    """``(train, held_out)``: the records of every ``every``-th seed (sorted) are held out, whole episodes at once."""
    if every < 2:
        raise ValueError(f"held_out_every must be at least 2 (some seeds left to train on), got {every}.")
    seeds = sorted({r.seed for r in records})
    held = set(seeds[::every])
    return [r for r in records if r.seed not in held], [r for r in records if r.seed in held]


def label_accuracy(policy: LMPolicy, records: Sequence[StepRecord], batch_size: int = 8) -> dict[str, Any]:
    """Greedy picks of ``policy`` against the records' expert actions (no reflections in the prompts).

    Returns:
        ``accuracy``, ``chance`` (mean of 1 / number of actions), ``first_label`` (share of picks of the first
        action), ``records``, and ``by_command``: ``{first word of the expert action: [right, records]}``.
    """
    if not records:
        raise ValueError("No records to score; check the data file and held_out_every.")
    right = first = 0
    by_command: dict[str, list[int]] = {}
    for start in range(0, len(records), batch_size):
        part = records[start : start + batch_size]
        picks = policy.act([r.state for r in part], [r.actions for r in part], greedy=True)
        for pick, record in zip(picks, part, strict=True):
            hit = pick == record.expert_action
            right += hit
            first += pick == 0
            counts = by_command.setdefault(record.actions[record.expert_action].split()[0], [0, 0])
            counts[0] += hit
            counts[1] += 1
    return {
        "records": len(records),
        "accuracy": right / len(records),
        "chance": sum(1 / len(r.actions) for r in records) / len(records),
        "first_label": first / len(records),
        "by_command": by_command,
    }


def describe(name: str, score: dict[str, Any]) -> str:
    """One line of a score."""
    commands = ", ".join(f"{c} {right}/{n}" for c, (right, n) in sorted(score["by_command"].items()))
    return (
        f"{name}: {score['accuracy']:.1%} of {score['records']} (chance {score['chance']:.1%}, first label "
        f"{score['first_label']:.0%}; {commands})"
    )


def main(args: Args) -> dict[str, Any]:
    from reflect_agent.checkpoint import atomic_write_json
    from reflect_agent.config import top_layers_lora_targets

    train, held = split_by_seed(read_jsonl(args.data), args.held_out_every)
    held = [r for r in held if r.kind == "expert"]
    seen = [r for r in train if r.kind == "expert"][: len(held)]
    torch.manual_seed(args.sft.seed)  # LoRA's initial weights
    targets = None if args.lora_layers is None else top_layers_lora_targets(args.model, args.lora_layers)
    config = PolicyConfig(
        model=args.model,
        template=args.template,
        decider=args.decider,
        max_prompt_tokens=args.max_prompt_tokens,
        autocast=args.sft.autocast,
        lora_target_modules=targets,
    )
    policy = LMPolicy.from_config(config)
    result: dict[str, Any] = {
        "data": str(args.data),
        "template": args.template.version,
        "decider": args.decider,
        "train_records": len(train),
    }
    result["held_out_before"] = label_accuracy(policy, held)
    print(describe("held out, before SFT", result["held_out_before"]), flush=True)
    start = time.perf_counter()
    sft = sft_policy(policy, train, args.sft, progress=False)
    result["sft"] = {"steps": sft.steps, "seconds": time.perf_counter() - start, "losses": sft.losses}
    result["held_out_after"] = label_accuracy(policy, held)
    result["train_after"] = label_accuracy(policy, seen)
    print(describe("held out, after SFT", result["held_out_after"]))
    print(describe("training seeds, after SFT", result["train_after"]))
    if args.out is not None:
        atomic_write_json(args.out, result)
    return result


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
