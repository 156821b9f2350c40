"""Helpers shared by the test modules."""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled

import reflect_gym  # noqa: F401  (registers the ReflectRL ids)

#: Every registered ReflectRL id.
ENV_IDS: list[str] = sorted(env_id for env_id in gym.registry if env_id.startswith("ReflectRL/"))


#: How every skip for a missing optional extra begins. Under ``pytest --require-extras`` (``make test``, which
#: installs every extra) tests/conftest.py turns such skips into failures, so a broken install is never green.
MISSING_EXTRA = "missing extra"


def require_extra(extra: str, *modules: str) -> None:
    """Skip the calling test, or the module when called at import, if a module of ``extra`` is not installed.

    The modules are found, not imported (importing some, like alfworld, changes the environment)."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(
            f"{MISSING_EXTRA} {extra!r}: {', '.join(missing)} not installed; pip install 'reflect-rl[{extra}]'",
            allow_module_level=True,
        )


def make_or_skip(env_id: str, **kwargs) -> gym.Env:
    """``gym.make(env_id)``, skipping the test with the reason when the env's extra is missing."""
    try:
        return gym.make(env_id, **kwargs)
    except DependencyNotInstalled as error:
        pytest.skip(f"{MISSING_EXTRA} for {env_id}: {error}")


def random_admissible(rng: np.random.Generator, info: dict) -> int:
    """A uniformly random admissible index, read from ``info["action_mask"]``."""
    return int(rng.choice(np.flatnonzero(info["action_mask"])))
