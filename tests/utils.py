"""Helpers shared by the test modules."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)

#: Every registered ReflectRL id.
ENV_IDS: list[str] = sorted(env_id for env_id in gym.registry if env_id.startswith("ReflectRL/"))


def make_or_skip(env_id: str, **kwargs) -> gym.Env:
    """``gym.make(env_id)``, skipping the test with the reason when the env's extra is missing."""
    try:
        return gym.make(env_id, **kwargs)
    except DependencyNotInstalled as error:
        pytest.skip(f"{env_id} needs an optional extra: {error}")


def random_admissible(rng: np.random.Generator, info: dict) -> int:
    """A uniformly random admissible index, read from ``info["action_mask"]``."""
    return int(rng.choice(np.flatnonzero(info["action_mask"])))
