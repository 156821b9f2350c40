"""The metrics logger."""

from __future__ import annotations

import json

import torch

from reflect_agent.metrics import MetricsLogger


def test_metrics_logger_writes_rows_and_drops_them_after_a_resume_point(tmp_path):
    path = tmp_path / "metrics.jsonl"
    logger = MetricsLogger(path, total=3, progress=False)
    for i in (1, 2, 3):
        logger.log(i, {"env/success_rate": i / 4, "losses/pg_loss": torch.tensor(0.5)})
    logger.plot(tmp_path / "curve.png")
    logger.close()
    assert [json.loads(line)["env/success_rate"] for line in path.read_text().splitlines()] == [0.25, 0.5, 0.75]
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    resumed = MetricsLogger(path, total=3, start=2, progress=False)
    assert [row["iteration"] for row in resumed.rows] == [1, 2]
