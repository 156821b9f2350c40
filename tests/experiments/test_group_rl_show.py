"""The per-iteration table of group RL metrics (experiments/group_rl/show.py)."""

from __future__ import annotations

import json

from experiments.group_rl.show import KEYS, table


def test_one_row_per_iteration_and_a_dash_where_a_metric_is_missing(tmp_path):
    path = tmp_path / "metrics.jsonl"
    rows = [
        {"iteration": 1, "env/success_rate": 0.25, "groups/return_std": 0.0},
        {"iteration": 2, "kl/start_policy": 0.5},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    lines = table(str(path)).splitlines()
    assert len(lines) == 4 and lines[0].count("|") == len(KEYS) + 1
    first = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert first[:3] == ["1", "0.25", "-"] and first[KEYS.index("groups/return_std")] == "0"
    assert [cell.strip() for cell in lines[3].strip("|").split("|")][KEYS.index("kl/start_policy")] == "0.5"
