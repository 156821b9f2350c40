"""DangerousTaxi with the paper's curriculum: pick up, then drop off, then the full task.

    python -m examples.train_taxi                  # SmolLM2 on the CPU; add --help for every option

Warm-up data comes from the expert of every stage; RL moves to the next stage once the training
success rate over two iterations reaches 60%; evaluation is on held-out seeds of the full task.
"""

from __future__ import annotations

import tyro

from examples.main import MainArgs, run
from reflect_agent.curriculum import CurriculumConfig


def default_args() -> MainArgs:
    """The example's settings (every field can be overridden on the command line)."""
    return MainArgs(
        env_id="ReflectRL/DangerousTaxi-v0",
        name="taxi",
        data_episodes=40,
        curriculum=CurriculumConfig(stages=("taxi",), switch="success", success_threshold=0.6, window=2),
        iterations=12,
        eval_episodes=40,
    )


if __name__ == "__main__":
    run(tyro.cli(MainArgs, default=default_args()))
