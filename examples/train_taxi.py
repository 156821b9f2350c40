"""DangerousTaxi with the paper's curriculum: pick up, then drop off, then the full task.

    python -m examples.train_taxi              # = reflect-rl train --preset taxi; add --help for every option

The settings are the ``taxi`` preset of :mod:`reflect_agent.presets`; any field can be overridden on the
command line (``--rl.iterations 8``, ``--agent.model tiny``).
"""

from __future__ import annotations

import sys

from reflect_agent.cli.train import main

PRESET = "taxi"

if __name__ == "__main__":
    sys.exit(main(["--preset", PRESET, *sys.argv[1:]]))
