"""Evaluation of an LM policy."""

from __future__ import annotations

import dataclasses

import torch

from reflect_agent.evaluation import EvalResult, evaluate
from reflect_agent.policy import LMPolicy, PolicyConfig
from tests.agent.toy_envs import BANDIT, stored_episode


def test_evaluation_plays_without_dropout_and_keeps_the_policys_mode():
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", lora_dropout=0.5))
    policy.train()
    modes = []
    for module in policy.modules():
        if isinstance(module, torch.nn.Dropout):  # LoRA's
            module.register_forward_pre_hook(lambda dropout, args: modes.append(dropout.training))
    evaluate(policy, None, BANDIT, range(2), num_envs=2)
    assert modes and not any(modes)
    assert all(module.training for module in policy.modules())


def test_a_result_records_the_seeds_it_solved_and_merged_shares_keep_them_all():
    def result(solved: dict[int, bool]) -> EvalResult:
        episodes = [stored_episode(seed, ["A room."], [1.0 if won else -1.0]) for seed, won in solved.items()]
        return EvalResult.of(BANDIT, episodes, seconds=0.0)

    first, second = result({7: True, 3: False, 5: True}), result({4: True, 9: False})
    assert first.solved_seeds == (5, 7) and second.solved_seeds == (4,)
    assert EvalResult.merge([first, second]).solved_seeds == (4, 5, 7)
    older = dataclasses.replace(second, solved_seeds=None)  # read back from a results file that predates them
    assert EvalResult.merge([first, older]).solved_seeds is None
