"""The trainer's run folder: a finished run is never cut by a rerun, and a damaged or killed run resumes from
what is intact."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from reflect_agent.checkpoint import CheckpointError, CheckpointWarning
from reflect_agent.ppo import ReflectRLTrainer, RunFolderInUseError
from tests.agent.toy_envs import tiny_config
from tests.faults.writes import count_writes, run_killed_at_write


def metrics_rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_rerun_without_resume_is_refused_and_overwrite_starts_over(tmp_path):
    config = tiny_config(tmp_path, iterations=3, num_envs=2, checkpoint_every=1, keep_checkpoints=2)
    ReflectRLTrainer(config).train()
    run = tmp_path / "run"
    before = {path: path.read_bytes() for path in run.rglob("*") if path.is_file()}

    shorter = dataclasses.replace(config, iterations=1)
    with pytest.raises(RunFolderInUseError, match=r"holds an earlier run \(iter_000002, iter_000003, metrics.jsonl"):
        ReflectRLTrainer(shorter)
    assert {path: path.read_bytes() for path in run.rglob("*") if path.is_file()} == before  # nothing touched

    ReflectRLTrainer(dataclasses.replace(shorter, overwrite=True)).train()
    assert [p.name for p in (run / "checkpoints").glob("iter_*")] == ["iter_000001"]
    assert [row["iteration"] for row in metrics_rows(run)] == [1]
    with pytest.raises(ValueError, match="pass one of them, not both"):
        dataclasses.replace(config, resume=True, overwrite=True)


def test_the_reflectors_speed_settings_do_not_block_a_resume(tmp_path):
    config = tiny_config(tmp_path, iterations=1, num_envs=2)
    ReflectRLTrainer(config).train()
    speed = {"fast_decode": False, "draft_tokens": 0, "pack_weights": False, "cache_entries": 0, "merge_adapter": False}
    faster = dataclasses.replace(config.reflector, **speed)
    ReflectRLTrainer(dataclasses.replace(config, iterations=2, resume=True, reflector=faster)).train()
    assert [row["iteration"] for row in metrics_rows(tmp_path / "run")] == [1, 2]
    other = dataclasses.replace(config.reflector, max_new_tokens=7)  # other text: refused
    with pytest.raises(ValueError, match=r"Cannot resume .*reflector.max_new_tokens"):
        ReflectRLTrainer(dataclasses.replace(config, iterations=3, resume=True, reflector=other))


def damage_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damage_garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage" * 8)


# What is damaged, how, and what the warning names.
DAMAGES = {
    "optimizer truncated": ("optimizer.pt", damage_truncate, "optimizer.pt"),
    "random states garbage": ("rng.pt", damage_garbage, "rng.pt"),
    "trainer state half-written": ("trainer_state.json", damage_truncate, "trainer_state.json"),
    "adapter truncated": ("policy/adapter/adapter_model.safetensors", damage_truncate, "policy/adapter"),
    "value head garbage": ("policy/value_head.safetensors", damage_garbage, "policy/value_head.safetensors"),
    "trainer state missing": ("trainer_state.json", Path.unlink, "trainer_state.json"),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_resume_passes_over_a_damaged_newest_checkpoint_for_the_newest_intact_one(tmp_path, damage):
    config = tiny_config(tmp_path, iterations=2, num_envs=2, checkpoint_every=1, keep_checkpoints=2)
    ReflectRLTrainer(config).train()
    checkpoints = tmp_path / "run" / "checkpoints"
    intact = ReflectRLTrainer(dataclasses.replace(config, name="intact"))
    intact.load_checkpoint(checkpoints / "iter_000001")
    name, breaks, named = DAMAGES[damage]
    breaks(checkpoints / "iter_000002" / name)

    with pytest.warns(CheckpointWarning, match=f"iter_000002 is damaged: .*iter_000002/{named} cannot be read"):
        resumed = ReflectRLTrainer(dataclasses.replace(config, resume=True))
    assert resumed.iteration_count == 1
    for (key, value), expected in zip(
        resumed.policy.state_dict().items(), intact.policy.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(value, expected, rtol=0, atol=0, msg=key)
    resumed.train()  # iteration 2 again, published over the damaged folder
    assert resumed.iteration_count == 2
    ReflectRLTrainer(dataclasses.replace(config, resume=True))  # now intact


def test_resume_ignores_a_bad_latest_pointer_and_cleans_leftovers_of_killed_writes(tmp_path):
    config = tiny_config(tmp_path, iterations=2, num_envs=2, checkpoint_every=1, keep_checkpoints=2)
    ReflectRLTrainer(config).train()
    checkpoints = tmp_path / "run" / "checkpoints"
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    leftover = checkpoints / f".iter_000003.{dead}-abcd1234.tmp"
    leftover.mkdir()
    (leftover / "optimizer.pt").write_bytes(b"half")
    for pointer in ("", "/etc\n", "iter_000001\n"):
        (checkpoints / "latest").write_text(pointer)
        assert ReflectRLTrainer(dataclasses.replace(config, resume=True)).iteration_count == 2
    assert not leftover.exists()


def test_resume_with_every_checkpoint_damaged_names_each_one(tmp_path):
    config = tiny_config(tmp_path, iterations=2, num_envs=2, checkpoint_every=1, keep_checkpoints=2)
    ReflectRLTrainer(config).train()
    for folder in (tmp_path / "run" / "checkpoints").glob("iter_*"):
        damage_garbage(folder / "rng.pt")
    with pytest.warns(CheckpointWarning), pytest.raises(CheckpointError) as raised:
        ReflectRLTrainer(dataclasses.replace(config, resume=True))
    assert "iter_000002" in str(raised.value) and "iter_000001" in str(raised.value)
    assert "Delete the damaged folders" in str(raised.value)


# A tiny run of the command line: 2 iterations, a checkpoint after each.
COMMAND = ("reflect_agent.ppo", "cpu", "--policy.model", "tiny", "--reflector.model", "tiny",
           "--env-id", "ReflectRL/DangerousTaxi-Dropoff-v0", "--num-envs", "2", "--iterations", "2",
           "--checkpoint-every", "1", "--eval-episodes", "2", "--no-progress", "--rl.minibatch-size", "4",
           "--rl.micro-batch-size", "4", "--threads", "1", "--reflector.max-new-tokens", "4")  # fmt: skip


def final_weights(folder: Path) -> dict[str, torch.Tensor]:
    policy = folder / "runs" / "cpu" / "checkpoints" / "iter_000002" / "policy"
    return {
        **load_file(policy / "adapter" / "adapter_model.safetensors"),
        **load_file(policy / "value_head.safetensors"),
    }


def killed_and_resumed(at: int, folder: Path) -> None:
    folder.mkdir()
    killed = run_killed_at_write(at, *COMMAND, cwd=folder)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = run_killed_at_write(-1, *COMMAND, "--resume", cwd=folder)
    assert resumed.returncode == 0, resumed.stderr


def assert_same_run(folder: Path, reference: Path) -> None:
    for name, value in final_weights(reference).items():
        torch.testing.assert_close(final_weights(folder)[name], value, rtol=0, atol=0, msg=name)
    rows = [{k: v for k, v in row.items() if not k.startswith("perf/")} for row in metrics_rows(folder / "runs/cpu")]
    expected = [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in metrics_rows(reference / "runs/cpu")]
    assert rows == expected
    assert not list((folder / "runs" / "cpu" / "checkpoints").glob(".*.tmp"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[Path, int]:
    """An uninterrupted run of :data:`COMMAND`, and how many files and folders it publishes."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    return folder, count_writes(*COMMAND, cwd=folder)


def test_a_run_killed_while_publishing_its_last_checkpoint_resumes_to_the_uninterrupted_state(tmp_path, uninterrupted):
    reference, writes = uninterrupted
    # The writes of the last checkpoint come before the metrics, the plot and the final evaluation.
    last_checkpoint = writes - 3
    killed_and_resumed(last_checkpoint, tmp_path / "killed")
    assert_same_run(tmp_path / "killed", reference)


@pytest.mark.slow
def test_a_run_killed_at_any_write_resumes_to_the_uninterrupted_state(tmp_path, uninterrupted):
    reference, writes = uninterrupted
    for at in range(1, writes + 1):
        killed_and_resumed(at, tmp_path / f"killed_at_{at}")
        assert_same_run(tmp_path / f"killed_at_{at}", reference)
