"""Checkpoint folders and random states."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reflect_agent.checkpoint import CheckpointManager, rng_state, set_rng_state
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
    first = (np.random.default_rng(0).random(), generator.random(), torch.rand(2))
    set_rng_state(state, generator)
    assert generator.random() == first[1]
    assert torch.equal(torch.rand(2), first[2])
