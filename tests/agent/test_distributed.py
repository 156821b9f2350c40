"""Data-parallel RL and SFT under ``accelerate launch``: two processes on this CPU (gloo), against one process.

Each launch is a subprocess of ``accelerate launch --config_file configs/accelerate/cpu_2proc.yaml`` on a free port
of 127.0.0.1, running :mod:`tests.agent.distributed_worker` (or a command of the project) in both processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from reflect_agent.config import EVAL_SEED_OFFSET
from reflect_agent.groups import group_seeds
from reflect_agent.policy import LMPolicy, PolicyConfig
from reflect_agent.ppo import update_policy
from reflect_agent.warmup import expert_records, write_jsonl
from tests.agent import distributed_worker
from tests.agent.toy_envs import BANDIT, WALK

ROOT = Path(__file__).resolve().parents[2]
CPU_CONFIG = ROOT / "configs" / "accelerate" / "cpu_2proc.yaml"

# A tiny RL run of the worker: 8 Corridor episodes per iteration (4 per process), the reflector, replay, a
# checkpoint after each of 2 iterations; minibatches of 4 decisions, one forward pass of 4 in one process and two of
# 2 in two processes.
NUM_ENVS = 8
RL_ARGUMENTS = ("--output-dir", "runs", "--name", "run", "--env-id", WALK, "--num-envs", str(NUM_ENVS),
                "--iterations", "2", "--checkpoint-every", "1", "--eval-episodes", "4", "--no-progress",
                "--threads", "1", "--policy.model", "tiny", "--policy.device", "cpu", "--policy.temperature", "0.2",
                "--reflector.model", "tiny", "--reflector.device", "cpu", "--reflector.max-new-tokens", "4",
                "--rl.minibatch-size", "4", "--rl.micro-batch-size", "4", "--rl.learning-rate", "1e-2",
                "--replay-capacity", "10", "--replay-episodes", "2")  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(
    *command: str, cwd: Path, config: Path | str = CPU_CONFIG, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``accelerate launch --config_file config -m command...`` in ``cwd`` (two processes with the CPU config)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
         "--main_process_port", str(free_port()), "-m", *command],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def run_worker(at: int, record: str, *extra: str, cwd: Path) -> subprocess.CompletedProcess:
    """The RL worker in two processes, each killed at its ``at``-th published write (0: none; it prints its count)."""
    return launch("tests.faults.writes", str(at), "os.replace", "tests.agent.distributed_worker", "rl", record,
                  *RL_ARGUMENTS, *extra, cwd=cwd)  # fmt: skip


@pytest.fixture(scope="module")
def rl_run(tmp_path_factory) -> tuple[Path, list[int]]:
    """A finished two-process run of :data:`RL_ARGUMENTS`, and how many files and folders each process published."""
    folder = tmp_path_factory.mktemp("two_processes")
    done = run_worker(0, "record", cwd=folder)
    assert done.returncode == 0, done.stderr[-4000:]
    writes = [int(line.removeprefix("writes: ")) for line in done.stdout.splitlines() if line.startswith("writes: ")]
    return folder, writes


def read_update(folder: Path, rank: int) -> dict[str, Any]:
    return torch.load(folder / "record" / f"update_{rank}.pt", weights_only=False)


def metrics_rows(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_each_process_plays_its_share_and_the_first_update_is_one_process_update_on_the_global_batch(rl_run):
    folder, _ = rl_run
    played = [json.loads((folder / "record" / f"rollouts_{rank}.json").read_text()) for rank in (0, 1)]
    one_process_seeds = group_seeds(np.random.default_rng(0), NUM_ENVS, 1, EVAL_SEED_OFFSET)
    assert played[0][0]["seeds"] + played[1][0]["seeds"] == one_process_seeds  # half each, the same draw

    first = [read_update(folder, rank) for rank in (0, 1)]
    assert len(first[0]["rollout"].episodes) == NUM_ENVS  # the global batch, on every process
    for name, weight in first[0]["after"].items():
        assert torch.equal(weight, first[1]["after"][name]), name  # the replicas stay equal

    # One process, the same start, the same global batch and shuffling: the same update.
    policy = LMPolicy.from_config(PolicyConfig(model="tiny", device="cpu", temperature=0.2))
    for name, parameter in policy.named_parameters():
        if parameter.requires_grad:
            assert torch.equal(parameter.detach(), first[0]["weights"][name]), name
    settings = first[0]["config"]
    optimizer = torch.optim.AdamW(
        policy.trainable_parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    generator = torch.Generator()
    generator.set_state(first[0]["generator"])
    metrics = update_policy(
        policy, optimizer, first[0]["rollout"], settings, generator, start_logprobs=first[0]["start_logprobs"]
    )
    moved = max((first[0]["after"][n] - first[0]["weights"][n]).abs().max().item() for n in first[0]["after"])
    assert moved > 1e-2  # the update did something to compare
    # Forward passes of 4 decisions here and of 2 there round differently, and Adam's steps carry it (measured: at
    # most 6e-5 against moves of 4e-2); a gradient not summed over the processes would move weights by ~1e-2.
    for name, parameter in policy.named_parameters():
        if parameter.requires_grad:
            torch.testing.assert_close(parameter.detach(), first[0]["after"][name], rtol=0, atol=moved / 100)
    assert metrics.keys() == first[0]["metrics"].keys()
    for name, value in metrics.items():
        assert value == pytest.approx(first[0]["metrics"][name], rel=1e-4, abs=1e-6, nan_ok=True), name


def test_the_metrics_report_the_global_batch_and_only_the_main_process_writes(rl_run):
    folder, writes = rl_run
    played = [json.loads((folder / "record" / f"rollouts_{rank}.json").read_text()) for rank in (0, 1)]
    rows = metrics_rows(folder / "runs" / "run")
    assert [row["iteration"] for row in rows] == [1, 2]
    for iteration, row in enumerate(rows):
        assert row["perf/decisions"] == played[0][iteration]["decisions"] + played[1][iteration]["decisions"]
    episodes = read_update(folder, 0)["rollout"].episodes  # the first iteration has nothing to replay
    assert rows[0]["env/success_rate"] == pytest.approx(np.mean([e.success for e in episodes]))
    assert rows[0]["charts/episode_length"] == pytest.approx(np.mean([len(e) for e in episodes]))
    assert sorted(writes) == [0, writes[0] or writes[1]] and max(writes) > 0  # one process publishes, the other none
    assert (folder / "runs" / "run" / "final_eval.json").is_file()


def same_states(first: Any, second: Any) -> bool:
    """Whether two saved random states (nested dicts, tuples and tensors) are equal."""
    if isinstance(first, torch.Tensor):
        return isinstance(second, torch.Tensor) and torch.equal(first, second)
    if isinstance(first, dict):
        return first.keys() == second.keys() and all(same_states(first[k], second[k]) for k in first)
    if isinstance(first, (list, tuple)):
        return len(first) == len(second) and all(same_states(a, b) for a, b in zip(first, second, strict=True))
    return first == second


def final_state(folder: Path) -> dict[str, Any]:
    checkpoint = folder / "runs" / "run" / "checkpoints" / "iter_000002"
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    return {
        "weights": {
            **load_file(checkpoint / "policy" / "adapter" / "adapter_model.safetensors"),
            **load_file(checkpoint / "policy" / "value_head.safetensors"),
        },
        "random states": [torch.load(checkpoint / name, weights_only=True) for name in ("rng.pt", "rng_process_1.pt")],
        "optimizer": torch.load(checkpoint / "optimizer.pt", weights_only=True),
        "state": {key: value for key, value in state.items() if key != "config"},  # the config differs by --resume
        "metrics": [
            {k: v for k, v in row.items() if not k.startswith("perf/")} for row in metrics_rows(folder / "runs" / "run")
        ],
    }


# Slow (about 30 s each on 2 cores): the default run kills one process at every checkpoint write
# (test_ppo_resume.py) and interrupts SFT (test_sft.py); these two kill a two-process launch.
@pytest.mark.slow
def test_a_two_process_run_killed_while_publishing_its_last_checkpoint_resumes_to_the_uninterrupted_state(
    tmp_path, rl_run
):
    reference, writes = rl_run
    killed = run_worker(max(writes) - 3, "record", cwd=tmp_path)  # the last checkpoint comes before plot and result
    assert killed.returncode != 0
    assert not (tmp_path / "runs" / "run" / "checkpoints" / "iter_000002").exists()
    resumed = run_worker(-1, "record", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    expected, got = final_state(reference), final_state(tmp_path)
    for name, weight in expected["weights"].items():
        torch.testing.assert_close(got["weights"][name], weight, rtol=0, atol=0, msg=name)
    assert same_states(got["random states"], expected["random states"])
    assert same_states(got["optimizer"], expected["optimizer"])
    assert got["state"] == expected["state"] and got["state"]["processes"] == 2
    assert got["metrics"] == expected["metrics"]


def test_a_resume_with_another_number_of_processes_is_refused(tmp_path, rl_run):
    reference, _ = rl_run
    shutil.copytree(reference / "runs", tmp_path / "runs")
    one = subprocess.run(
        [sys.executable, "-m", "tests.agent.distributed_worker", "rl", "record", *RL_ARGUMENTS, "--iterations", "3",
         "--resume"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert one.returncode != 0
    assert "it was trained by 2 process(es) and this launch has 1" in one.stderr
    assert json.loads((tmp_path / "runs/run/checkpoints/iter_000002/trainer_state.json").read_text())["iteration"] == 2


def test_a_launch_whose_groups_would_split_across_processes_is_refused(tmp_path):
    done = launch("reflect_agent.ppo", "cpu", "--policy.model", "tiny", "--reflector.model", "tiny",
                  "--policy.device", "cpu", "--num-envs", "4", "--group-size", "4", "--rl.advantage", "grpo",
                  "--replay-episodes", "0", "--iterations", "1", "--no-progress", cwd=tmp_path)  # fmt: skip
    assert done.returncode != 0
    assert "num_envs (4) cannot be shared by 2 processes in whole groups of group_size (4)" in done.stderr
    assert "launch 1 processes" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_a_launch_with_a_missing_config_file_is_refused(tmp_path):
    done = launch("reflect_agent.ppo", "cpu", config=tmp_path / "missing.yaml", cwd=tmp_path, timeout=120)
    assert done.returncode != 0
    assert "missing.yaml" in done.stderr and "does not exist" in done.stderr


def test_a_two_process_sft_trains_the_weights_of_one_process(tmp_path):
    data = write_jsonl(expert_records(BANDIT, range(16), perturb_prob=0.0), tmp_path / "data.jsonl")
    done = launch("tests.agent.distributed_worker", "sft", "both", str(data), "two", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    distributed_worker.sft("both", str(data), tmp_path / "one")  # here, one process
    for role in ("policy", "reflector"):
        one = torch.load(tmp_path / "one" / f"sft_{role}_0.pt")
        two = [torch.load(tmp_path / "two" / f"sft_{role}_{rank}.pt") for rank in (0, 1)]
        for name, weight in one.items():
            assert torch.equal(two[0][name], two[1][name]), (role, name)
            torch.testing.assert_close(two[0][name], weight, rtol=1e-4, atol=1e-5, msg=f"{role} {name}")


# The reflector's warm-up by the command line: 6 steps of 8 examples (4 per process), a checkpoint every 2.
SFT_COMMAND = ("reflect_agent.cli.sft", "--data", "data.jsonl", "--model", "tiny", "--role", "reflector",
               "--out", "reflector", "--sft.max-steps", "6", "--sft.batch-size", "8", "--sft.save-steps", "2",
               "--sft.learning-rate", "1e-2")  # fmt: skip


@pytest.mark.slow
def test_a_two_process_sft_killed_mid_checkpoint_resumes_to_the_uninterrupted_weights(tmp_path):
    records = expert_records(BANDIT, range(16), perturb_prob=0.0)
    for name in ("uninterrupted", "killed"):
        (tmp_path / name).mkdir()
        write_jsonl(records, tmp_path / name / "data.jsonl")
    done = launch("tests.faults.writes", "-1", "torch.save", *SFT_COMMAND, cwd=tmp_path / "uninterrupted")
    assert done.returncode == 0, done.stderr[-4000:]
    # The main process saves optimizer, schedule and its random states per checkpoint: die in the second checkpoint.
    killed = launch("tests.faults.writes", "5", "torch.save", *SFT_COMMAND, cwd=tmp_path / "killed")
    assert killed.returncode != 0
    assert not (tmp_path / "killed" / "reflector").exists()
    resumed = launch(*SFT_COMMAND, cwd=tmp_path / "killed")
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert "resumed at step 2" in resumed.stdout
    expected = load_file(tmp_path / "uninterrupted" / "reflector" / "adapter_model.safetensors")
    got = load_file(tmp_path / "killed" / "reflector" / "adapter_model.safetensors")
    assert expected.keys() == got.keys()
    for name, weight in expected.items():
        torch.testing.assert_close(got[name], weight, rtol=0, atol=0, msg=name)


def test_the_sft_refuses_a_batch_that_the_processes_cannot_share(monkeypatch):
    import reflect_agent.sft as sft

    monkeypatch.setattr(sft.Processes, "start", classmethod(lambda cls, cpu: cls(0, 3)))
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"batch_size \(8\) must be a multiple of the number of processes \(3\)"):
        sft.train_examples(
            model, [{"input_ids": [1]}], dataclasses.replace(distributed_worker.SFT_SETTINGS), None, None
        )


def test_the_shipped_launch_configs_load_and_say_what_they_run():
    from accelerate.commands.config.config_args import load_config_from_file

    configs = {path.stem: load_config_from_file(str(path)) for path in CPU_CONFIG.parent.glob("*.yaml")}
    kinds = {name: (str(c.distributed_type).split(".")[-1], c.mixed_precision) for name, c in configs.items()}
    assert kinds == {
        "cpu_2proc": ("MULTI_GPU", "no"),
        "ddp_bf16": ("MULTI_GPU", "bf16"),
        "multi_node": ("MULTI_GPU", "bf16"),
        "zero2": ("DEEPSPEED", "bf16"),
        "fsdp": ("FSDP", "bf16"),
    }
    assert configs["cpu_2proc"].use_cpu and configs["cpu_2proc"].num_processes == 2
    assert configs["multi_node"].num_machines > 1 and configs["multi_node"].main_process_ip
    assert configs["zero2"].deepspeed_config["zero_stage"] == 2


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ACCELERATE_USE_FSDP", "true", "does not shard the model: launch it with a DDP config"),
        ("ACCELERATE_USE_DEEPSPEED", "true", "not DeepSpeed"),
        ("ACCELERATE_MIXED_PRECISION", "bf16", "asks for bf16 mixed precision, but --policy.autocast is off"),
        ("ACCELERATE_MIXED_PRECISION", "fp16", "asks for fp16 mixed precision"),
    ],
)
def test_the_rl_trainer_refuses_a_launch_config_it_would_not_follow(tmp_path, monkeypatch, variable, value, message):
    from reflect_agent.ppo import ReflectRLTrainer
    from tests.agent.toy_envs import tiny_config

    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message):
        ReflectRLTrainer(tiny_config(tmp_path))
    assert not (tmp_path / "run").exists()


def test_the_completion_loss_through_the_wrapped_forward_is_the_direct_one(tmp_path):
    from transformers import TrainingArguments

    from reflect_agent.models import apply_lora, load_model
    from reflect_agent.prompts import PromptTemplate
    from reflect_agent.sft import CompletionOnlyTrainer
    from reflect_agent.sft_examples import CompletionCollator, reflector_examples

    model, tokenizer = load_model("tiny", device="cpu")
    model = apply_lora(model, dropout=0.0)
    records = expert_records(BANDIT, range(4), perturb_prob=0.0)
    examples = reflector_examples(tokenizer, PromptTemplate(), records, max_prompt_tokens=256)
    batch = CompletionCollator(tokenizer.pad_token_id)(examples)
    assert (batch["attention_mask"][:, 0] == 0).any()  # left padding, which the position ids must skip
    arguments = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    trainer = CompletionOnlyTrainer(model=model, args=arguments, data_collator=CompletionCollator(0))
    forwards = []
    model.register_forward_hook(lambda module, args, kwargs, output: forwards.append(kwargs), with_kwargs=True)
    direct = trainer.compute_loss(model, batch)
    assert forwards == []  # the body and the head alone
    trainer.through_wrapper = True  # as under DeepSpeed or FSDP
    assert trainer.compute_loss(model, batch).item() == pytest.approx(direct.item(), rel=1e-5)
    assert len(forwards) == 1 and torch.equal(forwards[0]["labels"], batch["labels"])  # the model's own loss


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_the_processes_shares_are_contiguous_and_cover_everything(count):
    from reflect_agent.distributed import Processes

    items = list(range(7))
    shares = [Processes(rank, count).shard(items) for rank in range(count)]
    assert [item for share in shares for item in share] == items
    assert max(map(len, shares)) - min(map(len, shares)) <= 1
    rows = [Processes(rank, count).shard_rows(torch.arange(7)).tolist() for rank in range(count)]
    assert rows == shares
