"""The reflect-rl sft command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from reflect_agent.cli.sft import SFTArgs
from reflect_agent.cli.sft import run as sft_main
from reflect_agent.models import apply_lora, load_model
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.sft import (
    SFTConfig,
)
from reflect_agent.warmup import expert_records, read_jsonl, write_jsonl
from tests.agent.toy_envs import BANDIT


def test_the_sft_command_trains_on_from_a_saved_policy_and_keeps_its_settings(tmp_path):
    torch.manual_seed(0)
    start = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", decider="scoring", temperature=0.3))
    start.save(tmp_path / "start")
    data = write_jsonl(expert_records(BANDIT, range(16), perturb_prob=0.0), tmp_path / "data.jsonl")
    sft = SFTConfig(max_steps=6, batch_size=8, learning_rate=1e-2, objective="policy")
    sft_main(SFTArgs(data=str(data), out=str(tmp_path / "after"), sft=sft, init_policy=str(tmp_path / "start")))

    after = LMPolicy.load(tmp_path / "after", trainable=False)
    assert after.config.decider == "scoring" and after.config.temperature == 0.3
    records = read_jsonl(data)[:4]
    assert after.act([r.state for r in records], [r.actions for r in records], greedy=True) == [2, 2, 2, 2]
    with pytest.raises(ValueError, match="takes --role policy"):
        SFTArgs(data=str(data), role="reflector", init_policy=str(tmp_path / "start"))


def test_the_sft_command_refuses_an_out_folder_it_did_not_write_before_training(tmp_path, monkeypatch):
    import reflect_agent.cli.sft as command
    from reflect_gym.files import ForeignPathError

    users = tmp_path / "mine"
    users.mkdir()
    (users / "notes.txt").write_text("keep me")
    data = write_jsonl(expert_records(BANDIT, range(2), perturb_prob=0.0), tmp_path / "data.jsonl")
    monkeypatch.setattr(command, "sft_policy", lambda *args, **kwargs: pytest.fail("trained before checking --out"))
    with pytest.raises(ForeignPathError, match="--overwrite"):
        sft_main(SFTArgs(data=str(data), model="tiny", out=str(users)))
    assert (users / "notes.txt").read_text() == "keep me"


@pytest.mark.slow
@pytest.mark.parametrize("role", ["policy", "reflector"])
def test_the_sft_command_trains_the_same_weights_in_every_process(tmp_path, role):
    data = write_jsonl(expert_records(BANDIT, range(8), perturb_prob=0.0), tmp_path / "data.jsonl")
    weights = []
    for run in ("first", "second"):
        done = subprocess.run(
            [sys.executable, "-m", "reflect_agent.cli", "sft", "--data", str(data), "--model", "tiny", "--role", role,
             "--out", str(tmp_path / run), "--sft.max-steps", "2", "--sft.batch-size", "4"],
            capture_output=True, text=True, check=False, cwd=tmp_path, env={**os.environ, "PYTHONHASHSEED": "random"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        folder = tmp_path / run / ("adapter" if role == "policy" else "")
        weights.append(load_file(folder / "adapter_model.safetensors"))
    assert weights[0].keys() == weights[1].keys()
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name


def test_new_adapters_and_value_head_come_from_the_init_seed_alone():
    built = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", value_head="mlp"))
        built.append({name: p.detach().clone() for name, p in policy.named_parameters() if p.requires_grad})
    for name, value in built[0].items():
        assert torch.equal(value, built[1][name]), name
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    other = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", value_head="mlp", init_seed=1))
    assert torch.equal(torch.rand(3), expected)  # building left the global random state alone
    lora_a = next(name for name in built[0] if "lora_A" in name)
    assert not torch.equal(dict(other.named_parameters())[lora_a], built[0][lora_a])


def test_the_reflectors_new_adapters_come_from_its_seed_alone():
    adapters = []
    for global_seed, seed in ((1, 0), (2, 0), (1, 1)):
        torch.manual_seed(global_seed)
        model = apply_lora(load_model("tiny", device="cpu")[0], seed=seed)
        adapters.append({name: p.detach().clone() for name, p in model.named_parameters() if "lora_A" in name})
    assert adapters[0].keys() == adapters[1].keys()
    assert all(torch.equal(value, adapters[1][name]) for name, value in adapters[0].items())
    assert not any(torch.equal(value, adapters[2][name]) for name, value in adapters[0].items())
