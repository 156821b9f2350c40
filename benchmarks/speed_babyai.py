"""``python -m benchmarks.speed_babyai``: the same as ``reflect-rl speed babyai`` (:mod:`reflect_gym.speed.babyai`)."""

from __future__ import annotations

import sys

from reflect_gym.speed.babyai import main

if __name__ == "__main__":
    sys.exit(main())
