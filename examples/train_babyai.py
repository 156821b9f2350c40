"""BabyAI in words (needs the babyai extra), GoToRedBall then GoToLocal.

    python -m examples.train_babyai              # = reflect-rl train --preset babyai; add --help for every option

The settings are the ``babyai`` preset of :mod:`reflect_agent.presets`; any field can be overridden on the
command line (``--rl.iterations 8``, ``--agent.model tiny``).
"""

from __future__ import annotations

import sys

from reflect_agent.cli.train import main

PRESET = "babyai"

if __name__ == "__main__":
    sys.exit(main(["--preset", PRESET, *sys.argv[1:]]))
