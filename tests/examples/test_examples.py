"""Each training example runs as written, shrunk to the tiny model and a few episodes."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from examples.main import run

EXAMPLES = ["train_taxi", "train_fileqa", "train_babyai", pytest.param("train_alfworld", marks=pytest.mark.slow)]


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_runs_end_to_end(example, tmp_path):
    module = importlib.import_module(f"examples.{example}")
    if example == "train_babyai":
        pytest.importorskip("minigrid")
    if example == "train_alfworld":
        pytest.importorskip("alfworld")
    defaults = module.default_args()
    args = dataclasses.replace(
        defaults,
        model="tiny",
        output_dir=str(tmp_path),
        data_episodes=2,
        iterations=1,
        num_envs=2,
        eval_episodes=2,
        eval_zero_shot=False,
        max_new_tokens=4,
        progress=False,
        threads=1,
    )
    results = run(args)
    assert (tmp_path / defaults.name / "results.md").is_file()
    assert results["evaluations"]["after RL"]["episodes"] == 2
