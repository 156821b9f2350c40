"""Each preset runner of examples/ runs its preset end to end, shrunk to the tiny model and a few episodes."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from tests.utils import require_extra

require_extra("agent", "torch", "transformers", "peft", "tyro")

from reflect_agent import presets  # noqa: E402
from reflect_agent.cli import train  # noqa: E402
from reflect_agent.pipeline import run  # noqa: E402

EXAMPLES = ["train_taxi", "train_fileqa", "train_babyai", pytest.param("train_alfworld", marks=pytest.mark.slow)]


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_runs_its_preset_end_to_end(example, tmp_path, monkeypatch):
    module = importlib.import_module(f"examples.{example}")
    if example == "train_babyai":
        require_extra("babyai", "minigrid")
    if example == "train_alfworld":
        require_extra("alfworld", "alfworld", "textworld", "fast_downward")
    preset = presets.PRESETS[module.PRESET]()
    config = dataclasses.replace(
        preset,
        output_dir=str(tmp_path),
        agent=dataclasses.replace(preset.agent, model="tiny", max_new_tokens=4),
        warmup=dataclasses.replace(preset.warmup, episodes=2),
        rl=dataclasses.replace(preset.rl, iterations=1, num_envs=2),
        eval=dataclasses.replace(preset.eval, episodes=2, zero_shot=False),
        progress=False,
        threads=1,
    )
    results = run(config)
    assert (tmp_path / preset.name / "results.md").is_file()
    assert results["evaluations"]["after RL"]["episodes"] == 2
    ran = []
    monkeypatch.setattr(train, "run", ran.append)
    assert train.main(["--preset", module.PRESET, "--rl.iterations", "1"]) == 0
    assert ran == [dataclasses.replace(preset, rl=dataclasses.replace(preset.rl, iterations=1))]


def test_the_paper_preset_is_the_papers_setting():
    config = presets.paper()
    assert (config.agent.model, config.env_kwargs["horizon"], config.rl.update.learning_rate) == ("gpt2-xl", 15, 2e-4)
