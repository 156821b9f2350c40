"""Look-ahead: what each admissible action would do, and how far the expert is from the goal.

Episodes are a function of the seed and the actions (the env contract), so a spare env reset with the
episode's seed and stepped through its actions stands in the same state; every action is tried there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from reflect_gym.core import expert_action


@dataclass
class Outcome:
    """What one admissible action does, seen by looking ahead."""

    reward: float
    terminated: bool
    truncated: bool
    success: bool
    steps_after: int | None = None
    """Steps the expert needs to succeed after this action (0 on success, ``None``: cannot)."""

    @property
    def fatal(self) -> bool:
        """Ends the episode without reaching the goal."""
        return self.terminated and not self.success


@dataclass
class Lookahead:
    """Facts the expert knows about a state.

    Attributes:
        outcomes: Per admissible action, what one step of it does.
        expert_steps: Steps the expert needs from here to reach the goal (``None``: not within the horizon).
    """

    outcomes: list[Outcome]
    expert_steps: int | None


def look_ahead(env: gym.Env, seed: int, prefix: Sequence[int], state: str) -> Lookahead:
    """Try every admissible action, and the expert after it, by replaying the episode on ``env``.

    The env contract makes episodes a function of the seed and the actions, so a spare env reset with
    ``seed`` and stepped through ``prefix`` stands in the same state; that is far cheaper than
    ``copy.deepcopy`` for envs with large shared tables, and works for any env whose reset is cheap.

    Args:
        env: A spare instance of the env (its episode is consumed).
        seed: The episode's reset seed.
        prefix: The actions taken so far in the episode.
        state: The current ``info["state"]``, to check that the replay reached the same state.

    Raises:
        RuntimeError: The replay reached another state (the env is not deterministic given its seed).
    """
    _, info = _replay(env, seed, prefix)
    if info["state"] != state:
        raise RuntimeError(
            f"Replaying seed {seed} with actions {list(prefix)} reached another state; the env must be "
            "deterministic given its seed and actions (pass look_ahead=False for envs that are not)."
        )
    outcomes = []
    for index in range(len(info["actions"])):
        _replay(env, seed, prefix)
        _, reward, terminated, truncated, step_info = env.step(index)
        success = bool(step_info["success"])
        steps_after = 0 if success else (None if terminated or truncated else _expert_steps(env))
        outcomes.append(Outcome(float(reward), bool(terminated), bool(truncated), success, steps_after))
    _replay(env, seed, prefix)
    return Lookahead(outcomes, _expert_steps(env))


def _replay(env: gym.Env, seed: int, prefix: Sequence[int]) -> tuple[Any, dict[str, Any]]:
    observation, info = env.reset(seed=seed)
    for action in prefix:
        observation, _, _, _, info = env.step(action)
    return observation, info


def _expert_steps(env: gym.Env) -> int | None:
    """Steps the expert takes on ``env`` (consumed) to succeed, or ``None``."""
    for steps in range(1, 10_000):
        _, _, terminated, truncated, info = env.step(expert_action(env))
        if info["success"]:
            return steps
        if terminated or truncated:
            return None
    return None
