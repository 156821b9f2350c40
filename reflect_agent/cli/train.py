"""``reflect-rl train``: the main job (:mod:`reflect_agent.pipeline`) from a preset, any field overridable.

reflect-rl train                                   # the cpu preset: SmolLM2 on BabyAI GoToRedBall, group RL
reflect-rl train --preset fileqa --rl.iterations 8
reflect-rl train --agent.model tiny --rl.iterations 1 --eval.episodes 4   # a smoke run
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import tyro

from reflect_agent.checkpoint import CheckpointError
from reflect_agent.pipeline import PipelineConfig, StaleArtifactError, run
from reflect_agent.ppo import DivergenceError, RunFolderInUseError
from reflect_agent.presets import PRESETS
from reflect_gym.files import ForeignPathError


def parse(argv: Sequence[str] | None = None) -> PipelineConfig:
    """The config of ``reflect-rl train ARGV``: ``--preset NAME`` (default ``cpu``) and the overrides of its fields.

    Raises:
        SystemExit: An unknown preset or a bad field (tyro's message), with the usage.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    preset = "cpu"
    if "--preset" in args:
        at = args.index("--preset")
        if at + 1 >= len(args) or args[at + 1] not in PRESETS:
            given = args[at + 1] if at + 1 < len(args) else "nothing"
            raise SystemExit(f"reflect-rl train: --preset takes one of {', '.join(PRESETS)}; got {given}.")
        preset = args[at + 1]
        del args[at : at + 2]
    description = (
        "The main job: warm-up data, zero-shot evaluation, SFT of reflector and policy, online RL, evaluation. "
        f"Starting from preset {preset!r}: {PRESETS[preset].__doc__} Presets: {', '.join(PRESETS)} (--preset NAME)."
    )
    return tyro.cli(
        PipelineConfig, default=PRESETS[preset](), args=args, prog="reflect-rl train", description=description
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the main job described by ``argv``; 2 when it refuses to run (a run folder or artifacts of other settings, a
    damaged run), 1 when training diverged."""
    try:
        run(parse(argv))
    except (StaleArtifactError, RunFolderInUseError, ForeignPathError, CheckpointError) as error:
        print(f"reflect-rl train: {error}", file=sys.stderr)
        return 2
    except DivergenceError as error:
        print(f"reflect-rl train: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
