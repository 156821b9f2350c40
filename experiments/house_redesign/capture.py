"""Behaviour to compare across a refactor: tiny-model RL metrics, harness numbers and warm-up data, as files.

    python -m experiments.house_redesign.capture OUT        # then: diff -r OUT_BEFORE OUT_AFTER

Writes ``rl_*.json`` (every logged metric but ``perf/`` of three tiny-model RL runs, and a final evaluation),
``harness.json`` (the harness's measurements of random, expert, ``lm:tiny`` and ``lm:tiny+reflect`` on DangerousTaxi
and FileQA depth 1, 12 episodes each) and ``*.jsonl`` (warm-up records of five envs, and DAgger records of
``lm:tiny``). At commits before the house redesign, the toy envs lived in ``tests/agent/test_trainer.py``, the
harness in ``benchmarks/evaluate.py`` and the records in ``reflect_agent.data``: run this file's functions there with
those imports.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import torch

from reflect_agent.agents import make_agent
from reflect_agent.cli.evaluate import main as harness
from reflect_agent.ppo import ReflectRLTrainer
from reflect_agent.reflector import ReflectorConfig
from reflect_agent.warmup import expert_records, policy_records, write_jsonl
from tests.agent.toy_envs import WALK, tiny_config

HARNESS_KEYS = ("env", "agent", "success_rate", "mean_return", "mean_steps", "invalid_action_rate", "successes")
HARNESS_KEYS += ("steps", "decisions", "success_ci95")


def rl(out: Path) -> None:
    for name, changes in (
        ("bandit", {}),
        ("corridor", {"env_id": WALK, "iterations": 3}),
        ("corridor_reflect", {"env_id": WALK, "iterations": 2, "use_reflector": True}),
    ):
        with tempfile.TemporaryDirectory() as folder:
            config = tiny_config(Path(folder), **changes)
            if changes.get("use_reflector"):
                config = dataclasses.replace(
                    config, reflector=ReflectorConfig(model="tiny", device="cpu", max_new_tokens=6)
                )
            trainer = ReflectRLTrainer(config)
            rows = [{k: v for k, v in row.items() if not k.startswith("perf/")} for row in trainer.train()]
            result = trainer.evaluate(8)
            trainer.close()
        data = {"rows": rows, "eval": [result.successes, result.mean_return, result.mean_length]}
        (out / f"rl_{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True))


def harness_cells(out: Path) -> None:
    argv = ["--env", "ReflectRL/DangerousTaxi-v0", "ReflectRL/FileQA-Depth1-v0", "--agent", "random", "expert"]
    argv += ["lm:tiny", "lm:tiny+reflect", "--episodes", "12", "--max-new-tokens", "6", "--device", "cpu"]
    argv += ["--torch-threads", "1", "--no-progress", "--out", str(out / "cells.json")]
    harness(argv)
    cells = json.loads((out / "cells.json").read_text())["results"]
    (out / "harness.json").write_text(json.dumps([{k: c.get(k) for k in HARNESS_KEYS} for c in cells], indent=1))


def warmup(out: Path) -> None:
    for env_id, seeds in (
        ("ReflectRL/DangerousTaxi-Dropoff-v0", 40),
        ("ReflectRL/DangerousTaxi-v0", 15),
        ("ReflectRL/FileQA-Depth1-v0", 25),
        ("ReflectRL/FileQA-v0", 10),
        ("ReflectRL/BabyAI-GoToRedBall-v0", 8),
    ):
        records = expert_records(env_id, range(seeds), perturb_prob=0.3)
        write_jsonl(records, out / f"{env_id.split('/')[1]}.jsonl")
    agent = make_agent("lm:tiny", device="cpu")
    write_jsonl(policy_records("ReflectRL/DangerousTaxi-Dropoff-v0", range(6), agent), out / "dagger.jsonl")


if __name__ == "__main__":
    torch.set_num_threads(1)
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    rl(folder)
    harness_cells(folder)
    warmup(folder)
