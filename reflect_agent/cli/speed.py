"""``reflect-rl speed BENCHMARK ...``: env and decider speed.

    reflect-rl speed taxi [--steps 100000]          DangerousTaxi next to raw Taxi-v4
    reflect-rl speed fileqa [--steps 50000]         FileQA resets and steps, expert and random success
    reflect-rl speed babyai [--levels GoToLocal]    BabyAI next to raw minigrid (the 'babyai' extra)
    reflect-rl speed alfworld [--workers 2]         ALFWorld, one and several async workers (the 'alfworld' extra)
    reflect-rl speed decide [--model smollm2]       LM decisions per second of each decider, and the reflector
    reflect-rl speed rollout [--rollouts 3]         RL rollouts with and without the reflector and its speed-ups

``reflect-rl speed BENCHMARK --help`` lists a benchmark's arguments.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: Benchmark -> its module (each with ``main(argv) -> int``).
BENCHMARKS: dict[str, str] = {
    "taxi": "reflect_gym.speed.taxi",
    "fileqa": "reflect_gym.speed.fileqa",
    "babyai": "reflect_gym.speed.babyai",
    "alfworld": "reflect_gym.speed.alfworld",
    "decide": "reflect_agent.speed",
    "rollout": "reflect_agent.speed_rollout",
}


def main(argv: Sequence[str] | None = None) -> int:
    """``reflect-rl speed ARGV``: run the benchmark named by the first argument."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in BENCHMARKS:
        print(__doc__, end="", file=sys.stdout if argv[:1] in (["-h"], ["--help"]) else sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    # Imported on demand: the babyai and alfworld benchmarks need their optional extras, decide needs torch.
    return int(importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:]) or 0)
