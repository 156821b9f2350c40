"""``reflect-rl sft``: warm up a policy or a reflector on a warm-up data file (:mod:`reflect_agent.sft`).

    reflect-rl sft --data data/taxi.jsonl --role reflector --out runs/sft-reflector

Checkpoints go to ``<out>.checkpoints`` until the result is saved; run the same command again after an
interruption to resume from them. An existing ``--out`` that reflect-rl did not write is refused before any
training (``--overwrite`` replaces it).
"""

from __future__ import annotations

import math
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
import tyro

from reflect_agent.distributed import Processes
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.sft import SFTConfig, checkpoints_next_to, sft_policy, sft_reflector, summary
from reflect_agent.warmup import read_jsonl
from reflect_gym.files import check_replaceable


@dataclass
class SFTArgs:
    """Warm up a policy or a reflector on a warm-up data file.

    Attributes:
        data: JSON lines written by ``reflect-rl data``.
        role: ``"policy"`` (saved with :meth:`LMPolicy.save`) or ``"reflector"`` (a LoRA adapter folder).
        model: Base model spec (see :func:`reflect_agent.models.load_model`).
        out: Output folder. Checkpoints go to ``<out>.checkpoints`` until it is saved; run the same
            command again after an interruption to resume from them.
        overwrite: Replace an existing ``out`` that reflect-rl did not write.
        sft: Training settings.
        init_policy: With ``role="policy"``, train on from this saved policy (a folder written by
            :meth:`LMPolicy.save`, e.g. an RL checkpoint's ``policy``), keeping its settings, instead of new
            adapters on ``model``: e.g. on :func:`reflect_agent.warmup.policy_records` of that policy (DAgger).
    """

    data: str
    role: Literal["policy", "reflector"] = "policy"
    model: str = "smollm2"
    out: str = "runs/sft"
    sft: SFTConfig = field(default_factory=SFTConfig)
    init_policy: str | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.init_policy is not None and self.role != "policy":
            raise ValueError(
                f"init_policy starts a policy's SFT from a saved policy; it takes --role policy, not {self.role!r}."
            )


def run(args: SFTArgs) -> int:
    """Run the warm-up described by ``args`` and print a summary; the exit status (1: the loss is not finite)."""
    # Refuse a foreign --out now, not after the training it would hold.
    marker = "policy_config.json" if args.role == "policy" else "adapter_config.json"
    check_replaceable(args.out, overwrite=args.overwrite, owned=lambda existing: (existing / marker).is_file())
    records = read_jsonl(args.data)
    checkpoints = checkpoints_next_to(args.out)
    if args.role == "policy":
        if args.init_policy is not None:
            policy = LMPolicy.load(args.init_policy, trainable=True)
        else:
            policy = LMPolicy.from_config(
                PolicyConfig(model=args.model, autocast=args.sft.autocast, init_seed=args.sft.seed)
            )
        result = sft_policy(policy, records, args.sft, checkpoint_dir=checkpoints)
    else:
        _, result = sft_reflector(
            args.model, records, args.sft, args.out, checkpoint_dir=checkpoints, overwrite=args.overwrite
        )
    # Under a launcher every process holds the same weights; the main process alone writes and reports.
    processes = Processes.start(cpu=not torch.cuda.is_available())
    if processes.is_main:
        if args.role == "policy":
            policy.save(args.out, overwrite=args.overwrite)
        shutil.rmtree(checkpoints, ignore_errors=True)
        print(f"{args.role}: {result.examples} examples, {summary(result)}; saved to {args.out}")
    processes.wait()
    return 0 if math.isfinite(result.train_loss) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``reflect-rl sft ARGV``."""
    return run(tyro.cli(SFTArgs, args=argv, prog="reflect-rl sft", description=__doc__))


if __name__ == "__main__":
    sys.exit(main())
