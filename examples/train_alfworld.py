"""ALFWorld's household tasks in text (needs the ``alfworld`` extra and its game files).

    python -m examples.train_alfworld              # SmolLM2 on the CPU; add --help for every option

ALFWorld's resets are slow and its game engine cannot be copied, so warm-up analyses are written
without look-ahead (from the expert's action alone). A state offers up to 128 commands, more than the
policy's 52 single-token labels, so the envs keep 52 (always including the expert's, ``look`` and
``inventory``); everything else is the main job's recipe.
"""

from __future__ import annotations

import tyro

from examples.main import MainArgs, run


def default_args() -> MainArgs:
    """The example's settings (every field can be overridden on the command line)."""
    return MainArgs(
        env_id="ReflectRL/ALFWorld-v0",
        name="alfworld",
        env_kwargs={"max_actions": 52},
        data_episodes=20,
        look_ahead=False,
        iterations=6,
        num_envs=4,
        eval_episodes=20,
        max_prompt_tokens=1024,
    )


if __name__ == "__main__":
    run(tyro.cli(MainArgs, default=default_args()))
