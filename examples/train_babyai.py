"""BabyAI in words (needs the ``babyai`` extra: minigrid), from GoToRedBall to GoToLocal.

    python -m examples.train_babyai                # SmolLM2 on the CPU; add --help for every option

The BabyAI bot is the expert of the warm-up data; RL follows a fixed schedule over two levels, and
evaluation is on held-out seeds of the second level.
"""

from __future__ import annotations

import tyro

from examples.main import MainArgs, run
from reflect_agent.curriculum import CurriculumConfig

STAGES = ("ReflectRL/BabyAI-GoToRedBall-v0", "ReflectRL/BabyAI-GoToLocal-v0")


def default_args() -> MainArgs:
    """The example's settings (every field can be overridden on the command line)."""
    return MainArgs(
        env_id=STAGES[-1],
        name="babyai",
        env_kwargs={"horizon": 32},
        data_episodes=20,
        curriculum=CurriculumConfig(stages=STAGES, switch="schedule", stage_iterations=(6,)),
        iterations=12,
        eval_episodes=32,
        max_prompt_tokens=512,
    )


if __name__ == "__main__":
    run(tyro.cli(MainArgs, default=default_args()))
