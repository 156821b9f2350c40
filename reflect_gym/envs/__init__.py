"""The ReflectRL environments, one module each; extras-dependent ones are imported lazily."""

from __future__ import annotations

from typing import Any

from reflect_gym.envs.taxi import DangerousTaxiEnv

__all__ = ["ALFWorldEnv", "BabyAITextEnv", "DangerousTaxiEnv", "FileQAEnv", "MiniGridTextEnv"]


def __getattr__(name: str) -> Any:
    # FileQA is imported on demand to keep `import reflect_gym.envs` light; BabyAI and ALFWorld need
    # their optional extras, so importing them eagerly would break installs without those extras.
    if name == "FileQAEnv":
        from reflect_gym.envs.fileqa import FileQAEnv

        return FileQAEnv
    if name in ("BabyAITextEnv", "MiniGridTextEnv"):
        from reflect_gym.envs import babyai

        return getattr(babyai, name)
    if name == "ALFWorldEnv":
        from reflect_gym.envs.alfworld import ALFWorldEnv

        return ALFWorldEnv
    raise AttributeError(f"module 'reflect_gym.envs' has no attribute {name!r}")
