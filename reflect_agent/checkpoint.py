"""Checkpoint directories, and the random states a resumed run must restore.

A checkpoint is a directory ``<root>/iter_000010/`` written by the project's one atomic writer
(:func:`reflect_gym.files.atomic_directory`), so a crash never leaves a half-written checkpoint under a final
name; ``<root>/latest`` (itself replaced atomically) names the newest one.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reflect_gym.files import atomic_directory, atomic_write, make_folder

LATEST = "latest"


def atomic_write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's and torch's generators; return the run's NumPy generator."""
    random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def rng_state(generator: np.random.Generator) -> dict[str, Any]:
    """The states of Python's ``random``, ``generator``, and torch's CPU (and CUDA) generators."""
    return {
        "python": random.getstate(),
        "numpy": generator.bit_generator.state,
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any], generator: np.random.Generator) -> None:
    """Restore the states captured by :func:`rng_state` (into ``generator`` for the NumPy part)."""
    random.setstate(state["python"])
    generator.bit_generator.state = state["numpy"]
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class CheckpointManager:
    """Numbered checkpoint directories under ``root``, the newest named by ``root/latest``.

    Args:
        root: The folder holding the checkpoints.
        keep: How many of the newest checkpoints to keep (older ones are deleted); at least 1.
    """

    def __init__(self, root: str | os.PathLike, keep: int):
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}.")
        self.root = Path(root)
        self.keep = keep

    def save(self, iteration: int, write: Callable[[Path], None]) -> Path:
        """Call ``write(folder)`` to fill a temporary folder, then publish it as ``iter_{iteration:06d}``."""
        final = make_folder(self.root) / f"iter_{iteration:06d}"
        with atomic_directory(final) as folder:
            write(folder)
        atomic_write(self.root / LATEST, final.name + "\n")
        for old in self.checkpoints()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def checkpoints(self) -> list[Path]:
        """The published checkpoint folders, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob("iter_*") if p.is_dir())

    def latest(self) -> Path | None:
        """The newest published checkpoint, or ``None`` when there is none."""
        pointer = self.root / LATEST
        if pointer.is_file():
            candidate = self.root / pointer.read_text().strip()
            if candidate.is_dir():
                return candidate
        found = self.checkpoints()
        return found[-1] if found else None
