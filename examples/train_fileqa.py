"""FileQA (the paper's AutoExplore) with a curriculum by depth, evaluated on held-out tasks.

    python -m examples.train_fileqa                # SmolLM2 on the CPU; add --help for every option

Training episodes draw tasks from the train split and hide half of the entries that are not on the way
to the answer (the paper's leave-out, ``leaveout_prob 0.5``); evaluation uses the test split with
nothing hidden. RL moves from depth 1 to depth 2 to every depth once the training success rate over two
iterations reaches 50%; evaluation is on the test split of every depth (``--env-id`` to change).
"""

from __future__ import annotations

import tyro

from examples.main import MainArgs, run
from reflect_agent.curriculum import CurriculumConfig


def default_args() -> MainArgs:
    """The example's settings (every field can be overridden on the command line)."""
    return MainArgs(
        env_id="ReflectRL/FileQA-v0",
        name="fileqa",
        env_kwargs={"leaveout_prob": 0.5},
        eval_env_kwargs={"split": "test", "leaveout_prob": 0.0},
        data_episodes=40,
        curriculum=CurriculumConfig(stages=("fileqa",), switch="success", success_threshold=0.5, window=2),
        iterations=12,
        eval_episodes=40,
        max_prompt_tokens=1024,
    )


if __name__ == "__main__":
    run(tyro.cli(MainArgs, default=default_args()))
