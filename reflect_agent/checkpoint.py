"""Checkpoint directories, and the random states a resumed run must restore.

A checkpoint is a directory ``<root>/iter_000010/`` written by the project's one atomic writer
(:func:`reflect_gym.files.atomic_directory`), so a crash never leaves a half-written checkpoint under a final
name; ``<root>/latest`` (itself replaced atomically) names the newest one. A resumed run reads the newest
checkpoint that reads whole (:meth:`CheckpointManager.restore`): a file damaged after the fact (truncated, garbage)
sends it to the next older one, with a warning that names the file.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from safetensors import SafetensorError

from reflect_gym.files import atomic_directory, atomic_write, make_folder, remove_leftovers

LATEST = "latest"
_CHECKPOINT_NAME = re.compile(r"iter_[0-9]{6,}")
T = TypeVar("T")


def atomic_write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def process_seed(seed: int, rank: int) -> int:
    """The seed of process ``rank`` of a data-parallel run seeded with ``seed``: ``seed`` itself for process 0, so
    that one process is seeded as a run without a launcher, and a seed drawn from ``(seed, rank)`` for the others."""
    if rank == 0:
        return seed
    return int(np.random.SeedSequence([seed, rank]).generate_state(1, np.uint64)[0] >> 1)


def seed_everything(seed: int, rank: int = 0) -> np.random.Generator:
    """Seed Python's and torch's generators; return the run's NumPy generator.

    Args:
        seed: The run's seed.
        rank: The index of this data-parallel process. Python's and torch's generators, which sample the actions,
            get each process's own seed (:func:`process_seed`); the NumPy generator, which draws the episodes' seeds,
            replay and the update's shuffling, is the same in every process, so all make the same choices.
    """
    random.seed(process_seed(seed, rank))
    torch.manual_seed(process_seed(seed, rank))
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


class CheckpointError(RuntimeError):
    """No checkpoint of a run can be restored."""


class CheckpointWarning(UserWarning):
    """A damaged checkpoint was passed over for an older one."""


#: What reading a damaged checkpoint raises: a missing or unreadable file (``OSError``), truncated or garbage JSON,
#: pickles, zip archives or safetensors (``ValueError``, ``RuntimeError``, ``EOFError``, ``UnpicklingError``,
#: ``SafetensorError``), and a missing key in a saved dict (``KeyError``).
DAMAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    KeyError,
    RuntimeError,
    EOFError,
    pickle.UnpicklingError,
    SafetensorError,
)


class DamagedFileError(ValueError):
    """A checkpoint file that cannot be read; the message names it."""


def read_file(path: str | os.PathLike, read: Callable[[Path], T]) -> T:
    """``read(path)``, with any of :data:`DAMAGE_ERRORS` raised again as :class:`DamagedFileError` naming ``path``."""
    path = Path(path)
    try:
        return read(path)
    except DamagedFileError:  # it names a file inside ``path`` already
        raise
    except DAMAGE_ERRORS as error:
        raise DamagedFileError(f"{path} cannot be read ({type(error).__name__}: {error})") from error


class CheckpointManager:
    """Numbered checkpoint directories under ``root``; the newest intact one is what a run resumes from.

    ``root/latest`` names the newest checkpoint for people and tools; resuming does not trust it (an empty,
    absolute or stale pointer changes nothing) and reads the numbered folders themselves, newest first.

    Args:
        root: The folder holding the checkpoints.
        keep: How many of the newest checkpoints to keep (older ones are deleted); at least 1.
    """

    def __init__(self, root: str | os.PathLike, keep: int):
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}.")
        self.root = Path(root)
        self.keep = keep

    def folder(self, iteration: int) -> Path:
        """Where the checkpoint of ``iteration`` is published: ``<root>/iter_{iteration:06d}``."""
        return self.root / f"iter_{iteration:06d}"

    def save(self, iteration: int, write: Callable[[Path], None]) -> Path:
        """Call ``write(folder)`` to fill a temporary folder, then publish it as :meth:`folder` of ``iteration``."""
        make_folder(self.root)
        final = self.folder(iteration)
        with atomic_directory(final) as folder:
            write(folder)
        atomic_write(self.root / LATEST, final.name + "\n")
        for old in self.checkpoints()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def checkpoints(self) -> list[Path]:
        """The published checkpoint folders, oldest first (by iteration)."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if _CHECKPOINT_NAME.fullmatch(p.name) and p.is_dir()]
        return sorted(found, key=lambda p: int(p.name.removeprefix("iter_")))

    def latest(self) -> Path | None:
        """The newest published checkpoint, or ``None`` when there is none."""
        found = self.checkpoints()
        return found[-1] if found else None

    def restore(self, read: Callable[[Path], T]) -> tuple[Path, T] | None:
        """``read`` the newest checkpoint that reads without :data:`DAMAGE_ERRORS`; ``None`` when there is none.

        A checkpoint that fails is passed over with a :class:`CheckpointWarning` that names it and the error, and
        the next older one is tried. Temporary folders left by killed writes are removed first.

        Raises:
            CheckpointError: Every checkpoint failed; the message lists each one and its error.
        """
        remove_leftovers(self.root)
        failures = []
        for folder in reversed(self.checkpoints()):
            try:
                return folder, read(folder)
            except DAMAGE_ERRORS as error:
                failures.append(f"{folder}: {error}")
                warnings.warn(
                    f"Checkpoint {folder} is damaged: {error}; trying an older one.",
                    CheckpointWarning,
                    stacklevel=2,
                )
        if failures:
            raise CheckpointError(
                "No checkpoint could be restored:\n  " + "\n  ".join(failures) + "\nDelete the damaged folders to "
                "start the run over from its beginning, or give the new run another name."
            )
        return None
