"""The main job (reflect_agent.pipeline), end to end with the tiny model and a few episodes."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
import torch

from reflect_agent import pipeline, presets
from reflect_agent.cli.train import parse
from reflect_agent.config import RLConfig
from reflect_agent.pipeline import HeldOutConfig, OnlineConfig, run
from reflect_agent.sft import SFTConfig
from tests.agent.toy_envs import tiny_pipeline


def test_main_job_runs_end_to_end_and_writes_its_results(tmp_path):
    results = run(tiny_pipeline(tmp_path, "smoke", envs=4, episodes=4, zero_shot=True, tokens=8))
    run_dir = tmp_path / "smoke"
    for name in ("results.json", "results.md", "results.png", "warmup.jsonl"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "results.json").read_text()) == json.loads(json.dumps(results))
    assert set(results["evaluations"]) == {"zero-shot", "after RL"}
    assert results["reference_success"]["expert"] == {"successes": 4, "episodes": 4}
    for evaluation in results["evaluations"].values():
        assert evaluation["episodes"] == 4 and 0.0 <= evaluation["success_rate"] <= 1.0


def test_each_evaluation_scores_the_policy_of_its_stage(tmp_path, monkeypatch):
    from reflect_agent.policy import LMPolicy
    from tests.agent.toy_envs import trainable_state

    evaluated: list[dict] = []
    held_out = pipeline.held_out
    monkeypatch.setattr(
        pipeline,
        "held_out",
        lambda config, policy, r: evaluated.append(trainable_state(policy)) or held_out(config, policy, r),
    )
    args = tiny_pipeline(tmp_path, "stages", variant="sft-rl", zero_shot=True, eval=dict(after_sft=True))
    results = run(args)
    assert list(results["evaluations"]) == ["zero-shot", "after SFT", "after RL"]
    untrained, after_sft, after_rl = evaluated
    saved = {
        "after SFT": trainable_state(LMPolicy.load(tmp_path / "stages" / "sft_policy")),
        "after RL": trainable_state(LMPolicy.load(tmp_path / "stages" / "checkpoints" / "iter_000001" / "policy")),
    }
    for stage, weights in (("after SFT", after_sft), ("after RL", after_rl)):
        for name, value in saved[stage].items():
            torch.testing.assert_close(weights[name], value, rtol=0, atol=0, msg=f"{stage}: {name}")
    # Each stage changed the weights: SFT those of the untrained policy, RL those of the SFT policy.
    for before, after in ((untrained, after_sft), (after_sft, after_rl)):
        assert any(not torch.equal(before[name], after[name]) for name in after)


def test_a_rerun_reuses_the_warm_up_data_and_sft_and_continues_rl(tmp_path, monkeypatch):
    args = tiny_pipeline(tmp_path, "again", variant="reflect-rl", eval=dict(after_sft=True))
    first = run(args)

    def rebuilt(*args, **kwargs):
        raise AssertionError("a finished stage was built again")

    for stage in ("expert_records", "sft_reflector", "sft_policy"):
        monkeypatch.setattr(pipeline, stage, rebuilt)
    monkeypatch.setattr(pipeline.ReflectRLTrainer, "iteration", rebuilt)  # RL resumes at its end: nothing to do
    again = run(args)
    for stage in ("after SFT", "after RL"):
        assert again["evaluations"][stage]["successes"] == first["evaluations"][stage]["successes"], stage
    assert not {"sft_reflector_s", "sft_policy_s"} & set(again["timings"])


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished reflect-rl run of the tiny model (copied by each test that changes its settings)."""
    folder = tmp_path_factory.mktemp("finished")
    run(tiny_pipeline(folder, "settings", variant="reflect-rl"))
    return folder / "settings"


@pytest.mark.parametrize(
    ("change", "stale", "named", "rebuild"),
    [
        (dict(env_id="ReflectRL/DangerousTaxi-Pickup-v0"), "warmup.jsonl", "env_ids", False),
        (dict(warmup=dict(episodes=3)), "warmup.jsonl", "episodes: 2 -> 3", True),
        (dict(seed=1), "warmup.jsonl", "seed: 0 -> 1", False),
        (dict(agent=dict(reflector_prompt_tokens=128)), "reflector_adapter", "max_prompt_tokens: 192 -> 128", False),
        (dict(agent=dict(lora_layers=1)), "reflector_adapter", "lora_layers: 10 -> 1", False),
        (dict(warmup=dict(policy_sft=SFTConfig(epochs=3.0))), "sft_policy_reflect", "sft.epochs: 2.0 -> 3.0", True),
        (dict(warmup=dict(policy_reads="reflector")), "sft_policy_reflect", "reads", True),
    ],
    ids=["env", "episodes", "seed", "reflector-prompt", "lora", "policy-sft", "policy-reads"],
)
def test_a_rerun_with_other_settings_is_refused_naming_them_and_overwrite_rebuilds(
    tmp_path, finished, change, stale, named, rebuild
):
    folder = tmp_path / "settings"
    shutil.copytree(finished, folder)
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    other = tiny_pipeline(tmp_path, "settings", variant="reflect-rl", **change)
    with pytest.raises(pipeline.StaleArtifactError, match=f"{stale} was made with other settings") as refused:
        run(other)
    assert named in str(refused.value) and "--overwrite" in str(refused.value)
    assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before  # nothing touched
    if not rebuild:
        return
    rebuilt = run(dataclasses.replace(other, overwrite=True))
    built = pipeline.in_hardware_precision(dataclasses.replace(other, overwrite=True))  # bf16 where it runs
    assert rebuilt["config"] == dataclasses.asdict(built)
    for artifact in (stale, "checkpoints"):  # RL starts over from the new warm-up
        record = folder / f"{artifact}.settings.json"
        assert record.read_bytes() != before[record], artifact
    run(other)  # the rebuilt artifacts are now this run's, and reused


def test_the_policy_can_learn_from_the_warmed_up_reflectors_own_analyses(tmp_path, monkeypatch):
    trained_on = []
    sft_policy = pipeline.sft_policy
    monkeypatch.setattr(
        pipeline,
        "sft_policy",
        lambda p, records, *a, **k: trained_on.append(records) or sft_policy(p, records, *a, **k),
    )
    args = tiny_pipeline(tmp_path, "reads", iterations=0, tokens=6, warmup=dict(policy_reads="reflector"))
    results = run(args)
    (records,) = trained_on
    expert = pipeline.read_jsonl(tmp_path / "reads" / "warmup.jsonl")
    reflector = pipeline.Reflector.from_config(
        pipeline.ReflectorConfig(
            model="tiny",
            adapter=str(tmp_path / "reads" / "reflector_adapter"),
            max_new_tokens=6,
            max_prompt_tokens=args.agent.reflector_tokens,
            autocast=pipeline.in_hardware_precision(args).agent.autocast,
        )
    )
    written = reflector.reflect(
        [pipeline.reflector_state(r.state, r.previous_action) for r in expert], [r.actions for r in expert]
    )
    assert [r.reflection for r in records] == written != [r.reflection for r in expert]
    assert [(r.state, r.expert_action) for r in records] == [(r.state, r.expert_action) for r in expert]
    assert results["timings"]["reflect_warmup_s"] > 0
    # Without a reflector (the sft-rl arm) the policy reads nothing, and nothing is written for it.
    trained_on.clear()
    run(tiny_pipeline(tmp_path, "none", iterations=0, variant="sft-rl", warmup=dict(policy_reads="reflector")))
    assert trained_on[0] == pipeline.read_jsonl(tmp_path / "none" / "warmup.jsonl")


def test_the_held_out_evaluation_plays_its_own_batch(tmp_path, monkeypatch):
    batches = []
    evaluate = pipeline.evaluate
    monkeypatch.setattr(pipeline, "evaluate", lambda *a, **k: batches.append(k["num_envs"]) or evaluate(*a, **k))
    run(tiny_pipeline(tmp_path, "batch", iterations=0, episodes=3, eval=dict(num_envs=3)))
    run(tiny_pipeline(tmp_path, "default", iterations=0, episodes=3))
    assert batches == [3, 2]  # eval.num_envs, else rl.num_envs
    with pytest.raises(ValueError, match="eval.num_envs must be at least 1"):
        HeldOutConfig(num_envs=0)


def test_an_artifact_without_a_record_of_its_settings_is_not_trusted(tmp_path):
    args = tiny_pipeline(tmp_path, "older", variant="sft", iterations=0)
    run(args)
    (tmp_path / "older" / "warmup.jsonl.settings.json").unlink()  # as an older reflect-rl left it
    with pytest.raises(pipeline.StaleArtifactError, match="no record of the settings that made it"):
        run(args)


def test_a_warm_up_without_episodes_is_refused_when_the_command_line_is_read(capsys):
    with pytest.raises(SystemExit):
        parse(["--warmup.episodes", "0"])
    assert "warmup.episodes must be >= 1 for variant" in " ".join(capsys.readouterr().err.split())
    assert parse(["--warmup.episodes", "0", "--variant", "rl"]).warmup.episodes == 0


def test_main_job_can_fine_tune_every_weight_of_the_policy(tmp_path):
    results = run(tiny_pipeline(tmp_path, "full", variant="sft-rl", agent=dict(policy_lora=False)))
    saved = tmp_path / "full" / "sft_policy"
    assert (saved / "model").is_dir() and not (saved / "adapter").exists()
    assert results["evaluations"]["after RL"]["episodes"] == 2


def test_zero_iterations_stop_after_the_warm_up(tmp_path):
    args = tiny_pipeline(tmp_path, "warm", variant="reflect-rl", iterations=0)
    results = run(args)
    assert set(results["evaluations"]) == {"after SFT"}
    assert "rl_s" not in results["timings"]
    with pytest.raises(ValueError, match=r"variant 'rl' with rl.iterations=0 trains nothing"):
        dataclasses.replace(args, variant="rl")


def test_the_main_job_runs_reflect_rl_with_a_scoring_policy(tmp_path):
    args = tiny_pipeline(tmp_path, "scoring", variant="reflect-rl", agent=dict(decider="scoring"))
    args.warmup.policy_sft.objective = "policy"
    results = run(args)
    assert (tmp_path / "scoring" / "sft_policy_reflect_scoring_policy-objective").is_dir()
    assert results["evaluations"]["after RL"]["episodes"] == 2
    rows = [json.loads(line) for line in (tmp_path / "scoring" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and all(value == value for value in rows[0].values() if isinstance(value, float))


def test_the_main_job_runs_group_rl_with_a_shorter_reflector_prompt(tmp_path, monkeypatch):
    built = []
    original = pipeline.Reflector.from_config
    monkeypatch.setattr(
        pipeline.Reflector, "from_config", lambda config, **kw: built.append(config) or original(config, **kw)
    )
    update = RLConfig(advantage="gigpo", minibatch_size=8, micro_batch_size=4)
    args = tiny_pipeline(
        tmp_path,
        "group",
        envs=4,
        agent=dict(max_prompt_tokens=256, reflector_prompt_tokens=160),
        rl=dict(group_size=2, replay_episodes=0, update=update),
    )
    results = run(args)
    assert [c.max_prompt_tokens for c in built] == [160]
    assert results["evaluations"]["after RL"]["episodes"] == 2
    rows = [json.loads(line) for line in (tmp_path / "group" / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["groups/count"] == 2 and "losses/explained_var" not in rows[0]


def test_group_settings_are_checked_before_anything_runs():
    with pytest.raises(ValueError, match=r"rl.num_envs \(6\) must be a multiple of rl.group_size \(4\)"):
        OnlineConfig(num_envs=6, group_size=4)
    with pytest.raises(ValueError, match="set rl.replay_episodes 0"):
        OnlineConfig(num_envs=8, group_size=4, update=RLConfig(advantage="grpo"))


def test_running_the_command_again_continues_rl(tmp_path):
    run(tiny_pipeline(tmp_path, "again", variant="sft-rl"))
    first = (tmp_path / "again" / "metrics.jsonl").read_text().splitlines()
    run(tiny_pipeline(tmp_path, "again", variant="sft-rl", iterations=2))
    rows = (tmp_path / "again" / "metrics.jsonl").read_text().splitlines()
    assert rows[:1] == first and [json.loads(row)["iteration"] for row in rows] == [1, 2]
    with pytest.raises(ValueError, match=r"Cannot resume .*num_envs: 2 -> 3"):
        run(tiny_pipeline(tmp_path, "again", variant="sft-rl", iterations=3, envs=3))


def test_rl_can_start_from_a_policy_another_run_saved(tmp_path):
    run(tiny_pipeline(tmp_path, "source", variant="sft-rl", agent=dict(decider="scoring")))
    saved = tmp_path / "source" / "checkpoints" / "iter_000001" / "policy"
    args = tiny_pipeline(tmp_path, "next", variant="rl", agent=dict(init_policy=str(saved)))
    results = run(args)
    assert results["evaluations"]["after RL"]["episodes"] == 2
    assert not (tmp_path / "next" / "warmup.jsonl").exists()  # nothing warmed up
    trained = json.loads(
        (tmp_path / "next" / "checkpoints" / "iter_000001" / "policy" / "policy_config.json").read_text()
    )
    assert trained["decider"] == "scoring"  # the saved policy's settings, not the run's default (labels)
    with pytest.raises(ValueError, match="takes --variant rl, not 'sft-rl'"):
        dataclasses.replace(args, variant="sft-rl")


def test_rl_samples_at_the_temperature_and_repeat_penalty_asked_for(tmp_path, monkeypatch):
    settings = []

    class Recording(pipeline.ReflectRLTrainer):
        def __init__(self, config, policy=None, reflector=None):
            settings.append((config.policy.temperature, policy.config.temperature, policy.config.repeat_penalty))
            super().__init__(config, policy=policy, reflector=reflector)

    monkeypatch.setattr(pipeline, "ReflectRLTrainer", Recording)
    run(tiny_pipeline(tmp_path, "warm", variant="sft"))  # saves the warm-up policy, at temperature 1, no penalty
    agent = dict(temperature=0.25, repeat_penalty=1.5)
    args = tiny_pipeline(tmp_path, "cool", variant="sft-rl", artifacts_dir=str(tmp_path / "warm"), agent=agent)
    run(args)
    assert settings == [(0.25, 0.25, 1.5)]
    assert pipeline.policy_config(args.agent).repeat_penalty == 1.5  # the zero-shot policy decides the same way
    with pytest.raises(ValueError, match="temperature must be positive, got 0"):
        dataclasses.replace(args.agent, temperature=0.0)


def test_the_prompt_template_reaches_the_saved_policy(tmp_path):
    from reflect_agent.policy import LMPolicy
    from reflect_agent.prompts import PromptTemplate

    template = PromptTemplate(version="label-after", action_line="{action} -> {label}")
    run(tiny_pipeline(tmp_path, "after", variant="sft", iterations=0, agent=dict(template=template)))
    policy = LMPolicy.load(tmp_path / "after" / "sft_policy")
    assert policy.config.template == template
    assert policy.prompts(["A taxi."], [["move north", "move south"]])[0].endswith("move south -> B\n\nAction:")


def test_an_interrupted_warm_up_resumes_from_its_checkpoint(tmp_path, monkeypatch, capsys):
    from reflect_agent.sft import CompletionOnlyTrainer

    sft = SFTConfig(max_steps=3, batch_size=2, save_steps=1, reflection_prob=0.0)
    args = tiny_pipeline(tmp_path, "cut", variant="sft", iterations=0, warmup=dict(policy_sft=sft))
    training_step = CompletionOnlyTrainer.training_step

    def interrupted_at_step_2(self, *step_args, **kwargs):
        if self.state.global_step == 2:
            raise KeyboardInterrupt
        return training_step(self, *step_args, **kwargs)

    monkeypatch.setattr(CompletionOnlyTrainer, "training_step", interrupted_at_step_2)
    with pytest.raises(KeyboardInterrupt):
        run(args)
    monkeypatch.undo()
    checkpoints = tmp_path / "cut" / "sft_policy.checkpoints"
    assert sorted(path.name for path in checkpoints.iterdir()) == ["checkpoint-1", "checkpoint-2", "settings.json"]

    run(args)
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("policy SFT:"))
    assert line.startswith("policy SFT: 3 steps") and "resumed at step 2" in line
    assert (tmp_path / "cut" / "sft_policy").is_dir() and not checkpoints.exists()


def test_none_on_the_command_line_drops_a_training_argument_from_evaluation():
    config = parse(["--env-kwargs", "tasks", "named.jsonl", "--eval.env-kwargs", "tasks", "None", "split", "test"])
    assert config.eval.env_kwargs == {"tasks": None, "split": "test"}
    assert config.eval_kwargs == {"split": "test", "horizon": 24}  # the default preset's horizon applies too


def test_the_command_line_starts_from_a_preset_and_overrides_its_fields():
    config = parse(["--preset", "fileqa", "--rl.iterations", "3", "--agent.model", "tiny"])
    assert (config.env_id, config.rl.iterations, config.agent.model) == ("ReflectRL/FileQA-v0", 3, "tiny")
    assert config.rl.curriculum == presets.fileqa().rl.curriculum  # the rest of the preset is kept
    assert parse([]) == presets.cpu()  # the cpu preset is the default
    with pytest.raises(SystemExit, match="--preset takes one of cpu, taxi_dropoff, taxi"):
        parse(["--preset", "gpu"])


def test_the_main_job_refuses_a_launch_in_several_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="runs in one process, and it was launched in 2"):
        run(tiny_pipeline(tmp_path, "launched"))
    assert not (tmp_path / "launched").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--eval.episodes", "0"], "eval.episodes must be at least 1, got 0"),
        (["--rl.num-envs", "0"], "rl.num_envs >= 1"),
        (["--rl.iterations", "-1"], "rl.iterations must be >= 0"),
    ],
)
def test_sizes_that_cannot_run_are_refused_when_the_command_line_is_read(capsys, argv, message):
    with pytest.raises(SystemExit):
        parse(argv)
    assert message in " ".join(capsys.readouterr().err.replace("│", " ").split())


def test_bf16_autocast_is_turned_off_where_the_device_emulates_it_and_the_run_says_so(tmp_path, monkeypatch, capsys):
    from reflect_agent.sft import sft_policy, sft_reflector

    config = tiny_pipeline(tmp_path, "fp32", iterations=0, agent=dict(autocast=True))
    monkeypatch.setattr(pipeline, "native_bf16", lambda device=None: True)  # an AMX or AVX-512 CPU, a GPU
    assert pipeline.in_hardware_precision(config) is config
    monkeypatch.setattr(pipeline, "native_bf16", lambda device=None: False)  # an AVX2-only CPU
    trained = []
    monkeypatch.setattr(pipeline, "sft_reflector", lambda *a, **k: trained.append(a[2]) or sft_reflector(*a, **k))
    monkeypatch.setattr(
        pipeline, "sft_policy", lambda p, *a, **k: trained.append((p.config, a[1])) or sft_policy(p, *a, **k)
    )
    results = run(config)
    reflector_sft, (policy, policy_sft) = trained
    assert not (reflector_sft.autocast or policy.autocast or policy_sft.autocast)
    assert results["config"]["agent"]["autocast"] is False
    assert "bf16 autocast off (agent, policy SFT, reflector SFT)" in capsys.readouterr().out
