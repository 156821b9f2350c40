"""``python -m reflect_agent.cli``: the ``reflect-rl`` command without installing its script."""

import sys

from reflect_agent.cli import main

sys.exit(main())
