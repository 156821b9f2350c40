"""``python -m benchmarks.speed_alfworld``: the same as ``reflect-rl speed alfworld`` (:mod:`reflect_gym.speed.alfworld`)."""

from __future__ import annotations

import sys

from reflect_gym.speed.alfworld import main

if __name__ == "__main__":
    sys.exit(main())
