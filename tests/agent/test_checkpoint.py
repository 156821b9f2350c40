"""Checkpoint folders and random states."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from reflect_agent.checkpoint import CheckpointManager, atomic_write_json, rng_state, seed_everything, set_rng_state
from reflect_gym.files import atomic_directory


def test_checkpoint_directories_are_atomic_and_pruned(tmp_path):
    manager = CheckpointManager(tmp_path / "ckpt", keep=2)
    for iteration in (1, 2, 3):
        manager.save(iteration, lambda folder, i=iteration: (folder / "value.txt").write_text(str(i)))
    assert [p.name for p in manager.checkpoints()] == ["iter_000002", "iter_000003"]
    assert manager.latest().name == "iter_000003"

    def fail(folder):
        (folder / "partial.txt").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        manager.save(4, fail)
    assert manager.latest().name == "iter_000003" and not (tmp_path / "ckpt" / "iter_000004").exists()
    assert not [p for p in (tmp_path / "ckpt").iterdir() if p.name.endswith(".tmp")]
    with atomic_directory(tmp_path / "ckpt" / "iter_000003") as folder:  # replacing an existing folder
        (folder / "value.txt").write_text("new")
    assert (tmp_path / "ckpt" / "iter_000003" / "value.txt").read_text() == "new"


def test_rng_state_round_trip():
    generator = np.random.default_rng(5)
    state = rng_state(generator)
    first = (random.random(), generator.random(), torch.rand(2))
    random.random(), generator.random(), torch.rand(2)  # move every generator on
    set_rng_state(state, generator)
    assert (random.random(), generator.random()) == first[:2]
    assert torch.equal(torch.rand(2), first[2])
    assert state["cuda"] == [] or torch.cuda.is_available()


def test_seed_everything_seeds_every_generator():
    draws = []
    for _ in range(2):
        generator = seed_everything(13)
        draws.append((random.random(), generator.random(), torch.rand(1).item()))
    assert draws[0] == draws[1]
    assert seed_everything(14).random() != draws[0][1]


def test_latest_is_the_newest_numbered_folder_whatever_the_pointer_says(tmp_path):
    manager = CheckpointManager(tmp_path / "ckpt", keep=5)
    assert manager.checkpoints() == [] and manager.latest() is None  # no folder yet
    for iteration in (1, 2, 3, 10):
        manager.save(iteration, lambda folder: None)
    (tmp_path / "ckpt" / ".iter_000009").mkdir()  # hidden: not a published checkpoint
    (tmp_path / "ckpt" / "iter_000008").write_text("a file, not a checkpoint")
    (tmp_path / "ckpt" / "iter_12").mkdir()  # not a checkpoint's name
    assert [p.name for p in manager.checkpoints()] == ["iter_000001", "iter_000002", "iter_000003", "iter_000010"]
    assert (tmp_path / "ckpt" / "latest").read_text() == "iter_000010\n"  # for people and tools
    for pointer in ("iter_000002\n", "iter_000007\n", "", "/etc\n", "../../\n"):
        (tmp_path / "ckpt" / "latest").write_text(pointer)
        assert manager.latest().name == "iter_000010"
    (tmp_path / "ckpt" / "latest").unlink()
    assert manager.latest().name == "iter_000010"
    with pytest.raises(ValueError, match="keep must be >= 1, got 0"):
        CheckpointManager(tmp_path, keep=0)
    newest_only = CheckpointManager(tmp_path / "one", keep=1)
    for iteration in (1, 2):
        newest_only.save(iteration, lambda folder: None)
    assert [p.name for p in newest_only.checkpoints()] == ["iter_000002"]


def test_json_is_written_whole_sorted_and_indented(tmp_path):
    path = tmp_path / "state.json"
    atomic_write_json(path, {"b": [1, 2], "a": {"c": None}})
    assert path.read_text() == '{\n  "a": {\n    "c": null\n  },\n  "b": [\n    1,\n    2\n  ]\n}\n'
    atomic_write_json(path, {"a": 1, "b": 2})  # a newer version of the same file replaces it
    assert json.loads(path.read_text()) == {"a": 1, "b": 2} and [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_an_old_checkpoint_that_cannot_be_pruned_does_not_fail_the_save(tmp_path):
    manager = CheckpointManager(tmp_path / "ckpt", keep=1)
    manager.save(1, lambda folder: None)
    # A link in place of the old checkpoint: rmtree refuses links, so it stays, and the new save still publishes.
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "ckpt" / "iter_000001").rename(elsewhere)
    (tmp_path / "ckpt" / "iter_000001").symlink_to(elsewhere, target_is_directory=True)
    assert manager.save(2, lambda folder: (folder / "state.txt").write_text("2")).name == "iter_000002"
    assert manager.latest().name == "iter_000002" and elsewhere.is_dir()
