"""The paper's ablation (experiments.ablation_fileqa_depth1.ablation) with the tiny model and a few episodes."""

from __future__ import annotations

import json

from experiments.ablation_fileqa_depth1.ablation import AblationArgs, ablate
from reflect_agent import pipeline
from tests.agent.toy_envs import tiny_pipeline


def test_the_ablation_runs_each_arm_once_on_shared_warm_ups_and_compares_them(tmp_path, monkeypatch):
    runs: list[pipeline.PipelineConfig] = []
    run = pipeline.run
    monkeypatch.setattr("experiments.ablation_fileqa_depth1.ablation.run", lambda c: runs.append(c) or run(c))
    args = AblationArgs(name="abl", main=tiny_pipeline(tmp_path, "unused", zero_shot=True, eval=dict(after_sft=True)))
    summary = ablate(args)
    assert [c.variant for c in runs] == ["sft", "rl", "sft-rl", "reflect-rl"]
    assert [c.eval.zero_shot for c in runs] == [True, False, False, False]
    assert not any(c.eval.after_sft for c in runs)
    assert {c.artifacts_dir for c in runs} == {str(tmp_path / "abl" / "shared")}
    assert [row["arm"] for row in summary["rows"]] == ["zero-shot", "sft", "rl", "sft-rl", "reflect-rl"]
    for row in summary["rows"]:
        assert row["episodes"] == 2 and row["solved_seeds"] is not None
    table = (tmp_path / "abl" / "ablation.md").read_text()
    assert "| SFT + RL (no reflection) |" in table and "Reflect-RL against SFT only: " in table
    assert json.loads((tmp_path / "abl" / "ablation.json").read_text())["rows"] == json.loads(
        json.dumps(summary["rows"])
    )
    # A second call reads the finished arms back instead of running them again.
    runs.clear()
    assert ablate(args)["rows"] == summary["rows"]
    assert not runs
