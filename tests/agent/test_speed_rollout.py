"""``reflect-rl speed rollout`` on the tiny model: every variant is measured, and the speed-ups keep the text."""

from __future__ import annotations

import json

from reflect_agent.cli import main
from reflect_agent.speed_rollout import ADAPTER_VARIANTS, VARIANTS


def test_the_rollout_benchmark_measures_every_variant_and_writes_json_and_a_table(tmp_path):
    out, table = tmp_path / "speed.json", tmp_path / "speed.md"
    argv = ["speed", "rollout", "--model", "tiny", "--envs", "DangerousTaxi-Dropoff-v0", "--num-envs", "2"]
    argv += ["--rollouts", "2", "--max-new-tokens", "4", "--threads", "1", "--no-autocast"]
    argv += ["--out", str(out), "--table", str(table)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    rows = {row["variant"]: row for row in result["rows"]}
    assert list(rows) == [name for name in VARIANTS if name not in ADAPTER_VARIANTS]  # no adapter to merge
    assert rows["policy only"]["vs_policy_only"] == 1.0 and rows["all"]["cache_hit_rate"] is not None
    # fp32 tiny model: the fast path and the cache write exactly the plain path's reflections
    fast = ("+ fast decode", "+ drafts")
    assert all(rows[name]["same_text"] for name in (*fast, "+ packed weights", "+ cache", "all"))
    assert all(0 <= row["success_rate"] <= 1 for row in rows.values())
    assert all(row["same_reflections"] is None for row in rows.values())  # only for other text
    # The fast path's decode steps are measured in the rollouts; a pass of the plain fast path is one step.
    assert rows["+ fast decode"]["steps_per_pass"] == 1.0 and rows["+ drafts"]["decode_ms_per_step"] > 0
    assert rows["reflector (generate)"]["decode_ms_per_step"] is None
    assert all(rows[name]["reflect_prefill_s"] > 0 and rows[name]["reflect_decode_s"] > 0 for name in fast)
    (decode,) = result["decode"]
    assert decode["floor_ms_per_step"] > 0 and decode["fast_ms_per_step"] > 0
    assert "| all |" in table.read_text() and "weights-read floor" in table.read_text()


def test_the_plain_reflector_agrees_with_its_own_rollouts_on_their_states():
    from reflect_agent.episodes import make_envs
    from reflect_agent.policy import LMPolicy, PolicyConfig
    from reflect_agent.reflector import Reflector, ReflectorConfig
    from reflect_agent.rollout import collect_rollout
    from reflect_agent.speed_rollout import agreement, reflector_inputs

    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu"))
    reflector = Reflector.from_config(ReflectorConfig(model="tiny", device="cpu", max_new_tokens=6, cache_entries=0))
    env_id = "ReflectRL/DangerousTaxi-Dropoff-v0"
    envs = make_envs(env_id, 3)
    rollout = collect_rollout(envs, policy, reflector, [0, 1, 2], env_id=env_id)
    envs.close()
    reflections = [r for episode in rollout.episodes for r in episode.reflections]
    inputs = reflector_inputs(rollout.episodes)
    assert len(inputs[0]) == len(reflections) > 3 and any("Last action:" in state for state in inputs[0])
    assert agreement(reflector, inputs, reflections, batch=3) == 1.0  # fp32: the same text on the same states
    assert agreement(reflector, inputs, ["?"] * len(reflections), batch=3) == 0.0


def test_the_rollout_benchmark_plays_a_saved_policy_and_a_warmed_up_reflector(tmp_path, monkeypatch):
    from reflect_agent import speed_rollout
    from reflect_agent.policy import LMPolicy, PolicyConfig

    LMPolicy.from_config(PolicyConfig(model="tiny", decider="scoring")).save(tmp_path / "policy")
    built, loaded = [], []
    from_config, load = speed_rollout.Reflector.from_config, speed_rollout.LMPolicy.load
    monkeypatch.setattr(speed_rollout.Reflector, "from_config", lambda c, **k: built.append(c) or from_config(c, **k))
    monkeypatch.setattr(speed_rollout.LMPolicy, "load", lambda path, **k: loaded.append(load(path, **k)) or loaded[-1])
    argv = ["speed", "rollout", "--model", "tiny", "--envs", "DangerousTaxi-Dropoff-v0", "--num-envs", "2"]
    argv += ["--rollouts", "1", "--max-new-tokens", "4", "--threads", "1"]
    argv += ["--policy", str(tmp_path / "policy"), "--reflector-adapter", str(tmp_path / "policy" / "adapter")]
    monkeypatch.setattr(speed_rollout, "native_bf16", lambda device=None: False)  # an AVX2-only CPU
    assert main(argv) == 0
    assert {c.autocast for c in built} == {False}  # no flag: bf16 only where the device runs it in hardware
    assert loaded[0].config.decider == "scoring"
    assert {c.adapter for c in built} == {str(tmp_path / "policy" / "adapter")}
    assert {c.merge_adapter for c in built} == {False, True}  # the plain path keeps the LoRA layers
    assert len(built) == len(VARIANTS)  # every reflector variant, and the decode measurement


def test_a_served_reflector_is_measured_beside_the_local_ones_with_its_reflections_length(tmp_path, chat_server):
    chat_server.respond = lambda body: " Drive south twice, then drop off."
    out = tmp_path / "speed.json"
    argv = ["speed", "rollout", "--model", "tiny", "--envs", "DangerousTaxi-Dropoff-v0", "--num-envs", "2"]
    argv += ["--rollouts", "1", "--max-new-tokens", "4", "--threads", "1", "--no-autocast", "--out", str(out)]
    argv += ["--server-url", chat_server.base_url, "--server-model", "stub-model", "--server-concurrency", "2"]
    assert main(argv) == 0
    rows = {row["variant"]: row for row in json.loads(out.read_text())["rows"]}
    assert list(rows) == [*(name for name in VARIANTS if name not in ADAPTER_VARIANTS), "served"]
    served = rows["served"]
    # other text than the plain path's: its states are asked again, for the share of them the server agrees on
    assert served["same_text"] is False and 2 * served["decisions"] == len(chat_server.requests)
    assert served["same_reflections"] == 0.0
    assert {request["path"] for request in chat_server.requests} == {"/v1/completions"}
    assert {(r["body"]["model"], r["body"]["max_tokens"]) for r in chat_server.requests} == {("stub-model", 4)}
    # every reflection is the server's sentence (8 of SmolLM2's tokens); the local reflectors' lengths are their own
    assert served["reflection_tokens"] == 8.0 and rows["policy only"]["reflection_tokens"] is None
    assert 0 < rows["reflector (generate)"]["reflection_tokens"] <= 4


def test_the_benchmark_measures_the_chosen_variants_at_the_chosen_horizon(tmp_path):
    out = tmp_path / "speed.json"
    argv = ["speed", "rollout", "--model", "tiny", "--envs", "BabyAI-GoToRedBall-v0", "--num-envs", "2"]
    argv += ["--rollouts", "1", "--max-new-tokens", "4", "--threads", "1", "--no-autocast", "--out", str(out)]
    argv += ["--variants", "+ cache", "--horizon", "3"]
    assert main(argv) == 0
    rows = {row["variant"]: row for row in json.loads(out.read_text())["rows"]}
    assert list(rows) == ["policy only", "+ cache"]
    assert rows["+ cache"]["same_text"] is None  # no plain path measured to compare with
    assert all(0 < row["decisions"] <= 2 * 3 for row in rows.values())  # 2 episodes of at most 3 steps (default: 64)
