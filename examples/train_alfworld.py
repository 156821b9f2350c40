"""ALFWorld household tasks (needs the alfworld extra), on the bundled problems or ALFWORLD_DATA.

    python -m examples.train_alfworld              # = reflect-rl train --preset alfworld; add --help for every option

The settings are the ``alfworld`` preset of :mod:`reflect_agent.presets`; any field can be overridden on the
command line (``--rl.iterations 8``, ``--agent.model tiny``).
"""

from __future__ import annotations

import sys

from reflect_agent.cli.train import main

PRESET = "alfworld"

if __name__ == "__main__":
    sys.exit(main(["--preset", PRESET, *sys.argv[1:]]))
