"""The smallest step budget at which tabular Q-learning solves each DangerousTaxi stage.

    python -m experiments.classical_baselines.budgets --out experiments/classical_baselines/results/qlearning_taxi_budgets

For each stage, budget on the grid and training seed, Q-learning (``QLearningConfig`` defaults, so its schedules
are fitted to that budget) trains from scratch and plays ``--episodes`` held-out episodes greedily. A stage's
budget is the first on the grid at which every training seed reaches ``--target`` held-out success; the output
says whether every larger budget on the grid also does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import reflect_gym  # noqa: F401  (registers the envs)
from experiments.classical_baselines.evaluation import HELD_OUT_SEED, held_out
from reflect_agent.baselines import QLearningAgent, QLearningConfig, train_qlearning
from reflect_agent.checkpoint import atomic_write_json
from reflect_gym.files import atomic_write

STAGES = {
    "pickup": "ReflectRL/DangerousTaxi-Pickup-v0",
    "dropoff": "ReflectRL/DangerousTaxi-Dropoff-v0",
    "full": "ReflectRL/DangerousTaxi-v0",
}


@dataclass
class Args:
    """Settings of the sweep.

    Attributes:
        stages: DangerousTaxi stages to sweep.
        budgets: Step budgets, in increasing order.
        seeds: Training seeds of each budget.
        episodes: Held-out evaluation episodes per trained table.
        target: Held-out success every seed must reach.
        out: Output path without suffix: ``.json`` (every run) and ``.md`` (the tables) are written.
    """

    stages: list[str] = field(default_factory=lambda: list(STAGES))
    budgets: list[int] = field(
        default_factory=lambda: [5_000, 10_000, 15_000, 20_000, 30_000, 40_000, 50_000, 70_000, 100_000]
    )
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    episodes: int = 1_000
    target: float = 0.95
    out: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.stages) - set(STAGES))
        if unknown:
            raise ValueError(f"Unknown stages {unknown}; use some of {list(STAGES)}.")
        if self.budgets != sorted(self.budgets):
            raise ValueError(f"budgets must be in increasing order, got {self.budgets}.")


def first_budget(runs: list[dict], target: float) -> tuple[int | None, bool]:
    """The first budget at which every run reaches ``target``, and whether every larger budget does too."""
    budgets = sorted({run["timesteps"] for run in runs})
    solved = [all(r["success_rate"] >= target for r in runs if r["timesteps"] == budget) for budget in budgets]
    if True not in solved:
        return None, False
    index = solved.index(True)
    return budgets[index], all(solved[index:])


def sweep(args: Args) -> dict:
    """Train and evaluate every (stage, budget, seed); returns the runs and each stage's first budget."""
    result: dict = {"settings": vars(args) | {"held_out_seed": HELD_OUT_SEED}, "runs": [], "stages": {}}
    for stage in args.stages:
        env_id = STAGES[stage]
        runs = []
        for timesteps in args.budgets:
            for seed in args.seeds:
                start = time.perf_counter()
                table = train_qlearning(env_id, QLearningConfig(timesteps=timesteps, seed=seed))
                seconds = time.perf_counter() - start
                evaluation = held_out(QLearningAgent(table), env_id, args.episodes)
                run = {
                    "stage": stage,
                    "env_id": env_id,
                    "timesteps": timesteps,
                    "seed": seed,
                    "train_seconds": round(seconds, 2),
                    "states": len(table),
                    "successes": evaluation.successes,
                    "episodes": evaluation.episodes,
                    "success_rate": evaluation.success_rate,
                    "ci_low": evaluation.ci_low,
                    "ci_high": evaluation.ci_high,
                    "mean_length": evaluation.mean_length,
                }
                runs.append(run)
                print(f"{stage} t={timesteps} seed={seed} {seconds:.1f}s {evaluation.row()}", flush=True)
        budget, holds = first_budget(runs, args.target)
        result["stages"][stage] = {"first_budget": budget, "holds_at_every_larger_budget": holds}
        result["runs"].extend(runs)
    return result


def markdown(result: dict) -> str:
    """Per stage and budget: the worst and best seed's held-out success, and the slowest training."""
    lines = [
        "| stage | budget (steps) | seeds at >= target | worst seed: success [95% interval] | best seed | train s (max) |",
        "|---|---:|---:|---|---:|---:|",
    ]
    target = result["settings"]["target"]
    for stage, summary in result["stages"].items():
        runs = [r for r in result["runs"] if r["stage"] == stage]
        for timesteps in sorted({r["timesteps"] for r in runs}):
            cell = [r for r in runs if r["timesteps"] == timesteps]
            worst = min(cell, key=lambda r: r["success_rate"])
            best = max(r["success_rate"] for r in cell)
            mark = " **(first)**" if timesteps == summary["first_budget"] else ""
            lines.append(
                f"| {stage} | {timesteps:,}{mark} | {sum(r['success_rate'] >= target for r in cell)}/{len(cell)} | "
                f"{100 * worst['success_rate']:.1f}% [{100 * worst['ci_low']:.1f}, {100 * worst['ci_high']:.1f}] | "
                f"{100 * best:.1f}% | {max(r['train_seconds'] for r in cell):.1f} |"
            )
    return "\n".join(lines) + "\n"


def main(args: Args) -> dict:
    result = sweep(args)
    table = markdown(result)
    print(table)
    if args.out:
        atomic_write_json(f"{args.out}.json", result)
        atomic_write(f"{args.out}.md", table)
    return result


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
