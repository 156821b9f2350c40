"""``reflect-rl``: the project's command, one subcommand per main job.

    reflect-rl train ...      the pipeline: warm-up data, SFT, RL, evaluation (reflect_agent.pipeline)
    reflect-rl evaluate ...   agents x envs on seeded episodes (reflect_agent.harness)
    reflect-rl data ...       warm-up records from an env's expert (reflect_agent.warmup)
    reflect-rl sft ...        supervised warm-up of a policy or reflector (reflect_agent.sft)
    reflect-rl speed ...      env and decider speed
    reflect-rl export ...     a reflector adapter merged into its base, for a server (reflect_agent.served)
    reflect-rl traces ...     the episode traces page, one HTML file (reflect_agent.trace_page)

Each subcommand is a module of this package with ``main(argv) -> int``, which parses its arguments with tyro
(``reflect-rl SUBCOMMAND --help`` lists them) and runs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: Subcommand -> (module of this package, one line of help).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "train": ("train", "Train: warm-up data, SFT, RL and evaluation, as one pipeline."),
    "evaluate": ("evaluate", "Evaluate agents x envs on seeded episodes; results JSON and a Markdown table."),
    "data": ("data", "Write warm-up records (states, expert actions, reflections) as JSON lines."),
    "sft": ("sft", "Supervised fine-tuning of a policy or reflector on warm-up records."),
    "speed": ("speed", "Measure env steps and LM decisions per second."),
    "export": ("export", "Merge a reflector's LoRA adapter into its base model: a folder a server loads."),
    "traces": ("traces", "Write the episode traces page: every episode, agents side by side, in one HTML file."),
}


def usage() -> str:
    """The top-level help: one line per subcommand."""
    width = max(map(len, SUBCOMMANDS))
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in SUBCOMMANDS.items()]
    return (
        "usage: reflect-rl {"
        + ",".join(SUBCOMMANDS)
        + "} [ARGS ...]\n\nsubcommands:\n"
        + "\n".join(lines)
        + ("\n\n'reflect-rl SUBCOMMAND --help' lists a subcommand's arguments.\n")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reflect-rl``: dispatch to the subcommand named by the first argument."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), end="")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"reflect-rl: unknown subcommand {name!r}.\n\n{usage()}", end="", file=sys.stderr)
        return 2
    # Imported on demand: a subcommand's module pulls in torch and transformers, which --help does not need.
    module = importlib.import_module(f"{__name__}.{SUBCOMMANDS[name][0]}")
    return int(module.main(rest) or 0)
