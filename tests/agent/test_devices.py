"""The accelerator path: a bf16 policy's forward pass, reflector generation and one RL update with checkpoint.

Each test runs on the CPU in the default run and on CUDA, marked ``gpu``, whenever a GPU is present (skipped with
the reason otherwise; tests/conftest.py), so the CUDA tests' own code is exercised on every machine; the CUDA random
state, which the CPU has not, is tested on CUDA only.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from reflect_agent.checkpoint import rng_state, set_rng_state
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.ppo import ReflectRLTrainer
from reflect_agent.reflector import Reflector, ReflectorConfig
from tests.agent.conftest import perturb_lora
from tests.agent.toy_envs import tiny_config, trainable_state

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
STATES = ["You are in the kitchen. A fridge is here.", "A long corridor. You see a door and a lamp."]
ACTIONS = [["go north", "open fridge"], ["go east", "open door", "look", "take lamp"]]


@pytest.mark.parametrize("device", DEVICES)
def test_a_bf16_policy_scores_actions_as_the_fp32_policy_does(device):
    reference = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", dtype="float32"))
    perturb_lora(reference)
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device=device, dtype="bfloat16"))
    policy.load_state_dict(reference.state_dict())
    assert policy.device.type == device
    # The frozen base weights are bf16; the trained ones (LoRA, value head) stay fp32 for the optimizer.
    assert {p.dtype for p in policy.parameters() if not p.requires_grad} == {torch.bfloat16}
    assert {p.dtype for p in policy.parameters() if p.requires_grad} == {torch.float32}
    with torch.no_grad():
        expected, expected_values = reference(reference.encode(STATES, ACTIONS))
        logprobs, values = policy(policy.encode(STATES, ACTIONS))
    assert logprobs.device.type == device and logprobs.dtype == torch.float32
    for row, actions in enumerate(ACTIONS):
        admissible = slice(0, len(actions))
        torch.testing.assert_close(logprobs[row, admissible].cpu(), expected[row, admissible], atol=0.05, rtol=0)
        assert torch.logsumexp(logprobs[row, admissible], 0).item() == pytest.approx(0.0, abs=1e-4)
    torch.testing.assert_close(values.cpu(), expected_values, atol=0.05, rtol=0.05)


@pytest.mark.parametrize("device", DEVICES)
def test_the_fast_decode_path_writes_the_same_reflections_as_generate(device):
    def reflections(fast: bool, dtype: str) -> list[str]:
        config = ReflectorConfig(model="tiny", device=device, dtype=dtype, max_new_tokens=12, fast_decode=fast)
        return Reflector.from_config(config).reflect(STATES, ACTIONS)

    assert reflections(True, "float32") == reflections(False, "float32")
    in_bf16 = reflections(True, "bfloat16")
    assert len(in_bf16) == 2 and all(isinstance(text, str) for text in in_bf16)


@pytest.mark.parametrize("device", DEVICES)
def test_one_rl_update_trains_and_its_checkpoint_resumes_on_the_cpu(device, tmp_path):
    policy = PolicyConfig(model="tiny", device=device, temperature=0.2)
    config = tiny_config(tmp_path, iterations=1, num_envs=8, policy=policy)
    trainer = ReflectRLTrainer(config)
    assert trainer.policy.device.type == device
    before = trainable_state(trainer.policy)
    (row,) = trainer.train()
    for key in ("losses/pg_loss", "losses/v_loss", "losses/entropy", "losses/approx_kl"):
        assert np.isfinite(row[key]), (key, row)
    after = trainable_state(trainer.policy)
    assert any(not torch.equal(before[name], after[name]) for name in after)

    on_cpu = dataclasses.replace(config, resume=True, policy=dataclasses.replace(policy, device="cpu"))
    resumed = ReflectRLTrainer(on_cpu)
    assert resumed.iteration_count == 1 and resumed.policy.device.type == "cpu"
    for name, value in trainable_state(resumed.policy).items():
        torch.testing.assert_close(value, after[name].cpu().to(value.dtype), rtol=0, atol=0, msg=name)


@pytest.mark.gpu
def test_the_cuda_random_state_is_saved_and_restored():
    generator = np.random.default_rng(0)
    state = rng_state(generator)
    assert len(state["cuda"]) == torch.cuda.device_count()
    first = torch.rand(3, device="cuda")
    torch.rand(3, device="cuda")
    set_rng_state(state, generator)
    assert torch.equal(torch.rand(3, device="cuda"), first)
