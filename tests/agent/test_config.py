"""Training configuration: LoRA targets, errors that name the fix, evaluation arguments."""

from __future__ import annotations

import pytest

from reflect_agent.config import RLConfig, TrainConfig, evaluation_kwargs, top_layers_lora_targets
from reflect_agent.policy import LMPolicy, PolicyConfig


def test_top_layers_lora_targets_adapt_only_the_last_blocks():
    targets = top_layers_lora_targets("tiny", 1)
    assert targets and all(".layers.1." in name for name in targets)
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", lora_target_modules=targets))
    adapted = {name for name, p in policy.model.named_parameters() if p.requires_grad}
    assert adapted and all(".layers.1." in name for name in adapted)


def test_config_errors_name_the_fix():
    with pytest.raises(ValueError, match="micro_batch_size"):
        RLConfig(minibatch_size=4, micro_batch_size=8)
    with pytest.raises(ValueError, match="algorithm"):
        RLConfig(algorithm="a2c")
    with pytest.raises(ValueError, match="replay_capacity"):
        TrainConfig(replay_capacity=-1)
    with pytest.raises(ValueError, match="decider must be 'labels' or 'scoring'"):
        PolicyConfig(decider="logits")


def test_evaluation_arguments_update_the_training_ones_and_none_drops_one():
    train = {"tasks": "named.jsonl", "leaveout_prob": 0.5}
    assert evaluation_kwargs(train, {"tasks": None, "split": "test", "leaveout_prob": 0.0}) == {
        "split": "test",
        "leaveout_prob": 0.0,
    }
    config = TrainConfig(env_kwargs=train, eval_env_kwargs={"tasks": None}, horizon=4)
    assert config.make_kwargs() == {**train, "horizon": 4}
    assert config.make_kwargs(evaluation=True) == {"leaveout_prob": 0.5, "horizon": 4}


@pytest.mark.parametrize("native", [True, False])
def test_the_cpu_preset_runs_bf16_autocast_only_where_the_cpu_runs_bf16_in_hardware(monkeypatch, native):
    from reflect_agent import config as config_module

    monkeypatch.setattr(config_module, "native_bf16", lambda device=None: native)
    preset = config_module.cpu_preset()
    assert preset.policy.autocast is native and preset.reflector.autocast is native
