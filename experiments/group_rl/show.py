"""Print the per-iteration RL metrics that matter for group RL as a table.

python -m experiments.group_rl.show runs/<name>/metrics.jsonl
"""

from __future__ import annotations

import json
import sys

KEYS = (
    "iteration",
    "env/success_rate",
    "charts/episodic_return",
    "charts/episode_length",
    "groups/return_std",
    "groups/dropped_share",
    "losses/updated_decisions",
    "losses/entropy",
    "kl/start_policy",
    "perf/decisions",
    "perf/rollout_s",
    "perf/update_s",
    "perf/reflect_s",
    "perf/reflect_cache_hit_rate",
)


def table(path: str) -> str:
    """A Markdown table with one row per iteration of ``path`` (a ``metrics.jsonl``)."""
    lines = ["| " + " | ".join(KEYS) + " |", "|" + "---:|" * len(KEYS)]
    with open(path) as rows:
        for line in rows:
            row = json.loads(line)
            cells = [f"{row[k]:.3g}" if isinstance(row.get(k), (int, float)) else "-" for k in KEYS]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1]))
