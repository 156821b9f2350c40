"""Classical baselines at a stated step budget: success on held-out episodes and training seconds, per env.

    python -m experiments.classical_baselines.cells --envs DangerousTaxi-v0 --agents tabular:qlearning sb3:dqn \
        --timesteps 100000 --out experiments/classical_baselines/results/cells

Each (env, agent) cell trains the baseline from scratch (stable-baselines3 models in a fresh temporary folder, so
no cached model is reused and the seconds are the training's) with ``make_baseline_agent``, the code path of
``reflect-rl evaluate``, then plays ``--episodes`` held-out episodes greedily. Cells are added to ``OUT.json``
(a cell with the same env, agent, budget and seed is replaced) and all of them are tabled in ``OUT.md``.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import reflect_gym  # noqa: F401  (registers the envs)
from experiments.classical_baselines.evaluation import HELD_OUT_SEED, held_out
from reflect_agent.agents import RandomAgent
from reflect_agent.baselines import make_baseline_agent
from reflect_agent.checkpoint import atomic_write_json
from reflect_gym.files import atomic_write

NAMESPACE = "ReflectRL/"


@dataclass
class Args:
    """Settings of a batch of cells.

    Attributes:
        envs: Env ids, with or without the ``ReflectRL/`` namespace.
        agents: Baseline specs: ``tabular:qlearning``, ``sb3:dqn``, ``sb3:ppo``, or ``random`` (the floor).
        timesteps: Training budget of every cell, in env steps.
        seed: Training seed.
        episodes: Held-out evaluation episodes per cell.
        out: Output path without suffix (``.json``: every cell so far; ``.md``: their table); empty: print only.
    """

    envs: list[str] = field(default_factory=lambda: ["DangerousTaxi-v0"])
    agents: list[str] = field(default_factory=lambda: ["tabular:qlearning"])
    timesteps: int = 100_000
    seed: int = 0
    episodes: int = 1_000
    out: str = ""


def run_cell(env_id: str, spec: str, timesteps: int, seed: int, episodes: int) -> dict:
    """Train ``spec`` on ``env_id`` for ``timesteps`` steps and evaluate it on held-out seeds.

    ``random`` (a uniformly random admissible action, no training, ``timesteps`` recorded as 0) is the floor a
    baseline's success is read against.
    """
    start = time.perf_counter()
    if spec == "random":
        agent, timesteps = RandomAgent(seed), 0
    else:
        with tempfile.TemporaryDirectory() as directory:
            agent = make_baseline_agent(spec, env_id, timesteps=timesteps, seed=seed, directory=Path(directory))
    seconds = time.perf_counter() - start
    evaluation = held_out(agent, env_id, episodes)
    print(f"{env_id} {spec} t={timesteps} {seconds:.0f}s {evaluation.row()}", flush=True)
    return {
        "env_id": env_id,
        "agent": spec,
        "timesteps": timesteps,
        "seed": seed,
        "held_out_seed": HELD_OUT_SEED,
        "train_seconds": round(seconds, 1),
        "episodes": evaluation.episodes,
        "successes": evaluation.successes,
        "success_rate": evaluation.success_rate,
        "ci_low": evaluation.ci_low,
        "ci_high": evaluation.ci_high,
        "mean_return": evaluation.mean_return,
        "mean_length": evaluation.mean_length,
    }


def markdown(cells: list[dict]) -> str:
    """The cells as a table, in the order they were added."""
    lines = [
        "| env | agent | budget (steps) | episodes | success | 95% interval | train s |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for c in cells:
        lines.append(
            f"| {c['env_id'].removeprefix(NAMESPACE)} | `{c['agent']}` | {c['timesteps']:,} | {c['episodes']} | "
            f"{100 * c['success_rate']:.1f}% ({c['successes']}/{c['episodes']}) | "
            f"[{100 * c['ci_low']:.1f}, {100 * c['ci_high']:.1f}] | {c['train_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(args: Args) -> list[dict]:
    path = Path(f"{args.out}.json") if args.out else None
    cells: list[dict] = json.loads(path.read_text()) if path is not None and path.exists() else []
    for name in args.envs:
        env_id = name if name.startswith(NAMESPACE) else NAMESPACE + name
        for spec in args.agents:
            cell = run_cell(env_id, spec, args.timesteps, args.seed, args.episodes)
            key = ("env_id", "agent", "timesteps", "seed")
            cells = [c for c in cells if any(c[k] != cell[k] for k in key)] + [cell]
            if path is not None:  # after every cell, so a long batch keeps what it measured
                atomic_write_json(path, cells)
                atomic_write(f"{args.out}.md", markdown(cells))
    print(markdown(cells))
    return cells


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Args))
