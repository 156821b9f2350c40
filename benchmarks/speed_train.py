"""Training throughput: decisions per second, iteration time and peak memory of the RL loop.

    python -m benchmarks.speed_train --out speed_train.json

Runs a few PPO iterations of the CPU preset (SmolLM2 policy; with ``--reflect`` also a SmolLM2
reflector writing every analysis) and reports, per iteration, the rollout's decisions per second, the
iteration's seconds split into reflection, policy, env and update time, and the process's peak memory
(peak resident memory on CPU, peak allocated GPU memory on CUDA). The first iteration is reported but
left out of the means (warm-up of kernels and caches).
"""

from __future__ import annotations

import dataclasses
import platform
import statistics
import tempfile
from dataclasses import dataclass

import torch

from reflect_agent.checkpoint import atomic_write_json
from reflect_agent.config import cpu_preset
from reflect_agent.ppo import ReflectRLTrainer


@dataclass
class ThroughputArgs:
    """What to measure.

    Attributes:
        env_id: The env.
        model: Policy (and reflector) model spec.
        reflect: Also run a reflector (its own copy of the model, no adapter) on every decision.
        iterations: Iterations measured (the first is left out of the means).
        num_envs: Episodes per iteration.
        threads: ``torch.set_num_threads`` (``None``: torch's default).
        device: ``None``: CUDA when available, else CPU.
        out: JSON file for the results (``None``: print only).
    """

    env_id: str = "ReflectRL/DangerousTaxi-Dropoff-v0"
    model: str = "smollm2"
    reflect: bool = False
    iterations: int = 3
    num_envs: int = 8
    threads: int | None = None
    device: str | None = None
    out: str | None = None


def main(args: ThroughputArgs) -> dict:
    """Measure and return (and write) the throughput of ``args``."""
    base = cpu_preset(args.env_id)
    config = dataclasses.replace(
        base,
        iterations=args.iterations,
        num_envs=args.num_envs,
        use_reflector=args.reflect,
        policy=dataclasses.replace(base.policy, model=args.model, device=args.device),
        reflector=dataclasses.replace(base.reflector, model=args.model, device=args.device),
        checkpoint_every=0,
        progress=False,
        threads=args.threads,
        replay_episodes=0,
    )
    with tempfile.TemporaryDirectory() as scratch:
        trainer = ReflectRLTrainer(dataclasses.replace(config, output_dir=scratch, name="throughput"))
        rows = trainer.train()
    keys = (
        "perf/decisions",
        "perf/decisions_per_s",
        "perf/iteration_s",
        "perf/rollout_s",
        "perf/update_s",
        "perf/reflect_s",
        "perf/policy_s",
        "perf/env_s",
    )
    measured = rows[1:] or rows
    summary = {key.removeprefix("perf/"): statistics.mean(row[key] for row in measured) for key in keys}
    summary["peak_memory_mb"] = max(row["perf/peak_memory_mb"] for row in rows)
    result = {
        "args": dataclasses.asdict(args),
        "device": str(trainer.policy.device),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "mean_after_first_iteration": summary,
        "iterations": [{k.removeprefix("perf/"): row[k] for k in (*keys, "perf/peak_memory_mb")} for row in rows],
    }
    print(
        f"{args.env_id} {args.model}{' + reflector' if args.reflect else ''} on {result['device']} "
        f"({result['torch_threads']} threads): {summary['decisions_per_s']:.2f} decisions/s in rollouts, "
        f"{summary['iteration_s']:.1f} s per iteration ({summary['decisions']:.0f} decisions), "
        f"peak memory {summary['peak_memory_mb']:.0f} MiB"
    )
    if args.out:
        atomic_write_json(args.out, result)
    return result


if __name__ == "__main__":
    import tyro

    main(tyro.cli(ThroughputArgs))
