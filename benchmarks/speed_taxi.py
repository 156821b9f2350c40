"""``python -m benchmarks.speed_taxi``: the same as ``reflect-rl speed taxi`` (:mod:`reflect_gym.speed.taxi`)."""

from __future__ import annotations

import sys

from reflect_gym.speed.taxi import main

if __name__ == "__main__":
    sys.exit(main())
