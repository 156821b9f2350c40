"""``python -m benchmarks.speed_fileqa``: the same as ``reflect-rl speed fileqa`` (:mod:`reflect_gym.speed.fileqa`)."""

from __future__ import annotations

import sys

from reflect_gym.speed.fileqa import main

if __name__ == "__main__":
    sys.exit(main())
