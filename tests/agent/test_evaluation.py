"""Evaluation of an LM policy."""

from __future__ import annotations

import torch

from reflect_agent.evaluation import evaluate
from reflect_agent.policy import LMPolicy, PolicyConfig
from tests.agent.toy_envs import BANDIT


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
