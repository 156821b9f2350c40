"""The main job's results table."""

from __future__ import annotations

import dataclasses

from reflect_agent.evaluation import EvalResult
from reflect_agent.report import results_table
from tests.agent.toy_envs import BANDIT, stored_episode

SEEDS = range(100, 108)


def result(solved: set[int]) -> EvalResult:
    episodes = [stored_episode(seed, ["A room."], [1.0 if seed in solved else 0.0]) for seed in SEEDS]
    return EvalResult.of(BANDIT, episodes, seconds=0.0)


def test_each_stage_is_compared_with_the_one_before_on_the_same_episodes():
    evaluations = {
        "zero-shot": result(set()),
        "after SFT": result({100, 101, 102}),
        "after RL": result({101, 102, 103, 104, 105}),
    }
    table = results_table("title", SEEDS, evaluations, {})
    assert "| after RL | 62.5% (5/8) | [30.6, 86.3] | +0.625 | 1.0 |" in table
    assert "- after SFT against zero-shot: +3 episodes (3 solved only after SFT, 0 only zero-shot; " in table
    assert "exact McNemar test p = 0.25)" in table
    assert "- after RL against after SFT: +2 episodes (3 solved only after RL, 1 only after SFT; " in table
    assert "exact McNemar test p = 0.625)" in table


def test_stages_without_their_solved_seeds_are_not_compared():
    evaluations = {"after SFT": dataclasses.replace(result({100}), solved_seeds=None), "after RL": result({101})}
    assert "against" not in results_table("title", SEEDS, evaluations, {})
