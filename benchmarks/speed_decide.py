"""``python -m benchmarks.speed_decide``: the same as ``reflect-rl speed decide`` (:mod:`reflect_agent.speed`)."""

from __future__ import annotations

import sys

from reflect_agent.speed import main

if __name__ == "__main__":
    sys.exit(main())
