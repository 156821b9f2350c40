"""FileQA (the paper's AutoExplore) with a curriculum by depth, evaluated on the test split.

    python -m examples.train_fileqa              # = reflect-rl train --preset fileqa; add --help for every option

The settings are the ``fileqa`` preset of :mod:`reflect_agent.presets`; any field can be overridden on the
command line (``--rl.iterations 8``, ``--agent.model tiny``).
"""

from __future__ import annotations

import sys

from reflect_agent.cli.train import main

PRESET = "fileqa"

if __name__ == "__main__":
    sys.exit(main(["--preset", PRESET, *sys.argv[1:]]))
