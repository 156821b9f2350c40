"""ALFWorld as a ReflectRL env; ``alfworld`` and ``textworld`` are imported only by its game processes."""

from __future__ import annotations

from reflect_gym.envs.alfworld.env import (
    BUNDLED_PROBLEMS,
    SPLITS,
    TASK_TYPES,
    ALFWorldEnv,
    ALFWorldGameError,
    ALFWorldTimeoutError,
)

__all__ = ["ALFWorldEnv", "ALFWorldGameError", "ALFWorldTimeoutError", "BUNDLED_PROBLEMS", "SPLITS", "TASK_TYPES"]
