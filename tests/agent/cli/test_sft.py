"""The reflect-rl sft command."""

from __future__ import annotations

import pytest
import torch

from reflect_agent.cli.sft import SFTArgs
from reflect_agent.cli.sft import run as sft_main
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
