"""``reflect-rl data``: DataArgs -> warm-up records on disk."""

from __future__ import annotations

from reflect_agent.cli.data import DataArgs, run
from reflect_agent.warmup import read_jsonl

TAXI = "ReflectRL/DangerousTaxi-Dropoff-v0"


def test_the_data_command_writes_the_experts_records(tmp_path, capsys):
    out = tmp_path / "taxi.jsonl"
    run(DataArgs(env_id=TAXI, out=str(out), seeds=2, first_seed=5, perturb_prob=0.5, horizon=12))
    records = read_jsonl(out)
    assert {r.seed for r in records} == {5, 6}
    assert {r.env_kwargs["horizon"] for r in records} == {12}
    assert f"from 2 episodes to {out}" in capsys.readouterr().out


def test_the_data_command_records_an_agents_states(tmp_path, capsys):
    out = tmp_path / "dagger.jsonl"
    run(DataArgs(env_id=TAXI, out=str(out), seeds=3, agent="random", expert_prob=0.5, env_kwargs={"horizon": 9}))
    records = read_jsonl(out)
    assert {r.seed for r in records} == {0, 1, 2}
    assert {r.env_kwargs["horizon"] for r in records} == {9}
    assert "records" in capsys.readouterr().out
