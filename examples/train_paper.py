"""The paper's setting on FileQA: GPT-2 XL policy and reflector (needs the gpt2-xl weights; a GPU in practice).

    python -m examples.train_paper              # = reflect-rl train --preset paper; add --help for every option

The settings are the ``paper`` preset of :mod:`reflect_agent.presets`; any field can be overridden on the
command line (``--rl.iterations 8``, ``--agent.model tiny``).
"""

from __future__ import annotations

import sys

from reflect_agent.cli.train import main

PRESET = "paper"

if __name__ == "__main__":
    sys.exit(main(["--preset", PRESET, *sys.argv[1:]]))
