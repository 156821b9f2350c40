"""``python -m benchmarks.evaluate``: the evaluation harness, the same as ``reflect-rl evaluate``.

The harness lives in the package (:mod:`reflect_agent.harness`); ``reflect-rl evaluate --help`` lists its
arguments.
"""

from __future__ import annotations

import sys

from reflect_agent.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
