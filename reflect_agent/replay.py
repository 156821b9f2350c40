"""A replay buffer of successful episodes, stored as text so it is small and checkpoints as JSON.

The paper keeps the last 50 successful trajectories and trains on one extra batch drawn from them at
each iteration. An episode is replayed by re-encoding its prompts and scoring them under the *current*
policy (log-probabilities and values), so its PPO ratios start at one like any fresh sample; only its
rewards, actions and reflections come from the past.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from typing import Any

import numpy as np

from reflect_agent.episodes import Episode


class SuccessReplay:
    """First-in first-out buffer of the most recent successful episodes.

    Args:
        capacity: Episodes kept; the oldest is dropped when a new one arrives (0 disables the buffer).
    """

    def __init__(self, capacity: int = 50):
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}.")
        self.capacity = capacity
        self._episodes: deque[Episode] = deque(maxlen=capacity or None)

    def __len__(self) -> int:
        return len(self._episodes)

    def add(self, episode: Episode) -> bool:
        """Keep ``episode`` if it succeeded (and the buffer is enabled); return whether it was kept."""
        if self.capacity == 0 or not episode.success or len(episode) == 0:
            return False
        self._episodes.append(episode)
        return True

    def sample(self, count: int, rng: np.random.Generator) -> list[Episode]:
        """``count`` episodes drawn uniformly without replacement (all of them when fewer are stored)."""
        if count <= 0 or not self._episodes:
            return []
        picks = rng.choice(len(self._episodes), size=min(count, len(self._episodes)), replace=False)
        return [self._episodes[int(i)] for i in sorted(picks)]

    def state_dict(self) -> dict[str, Any]:
        """A JSON-serializable snapshot of the buffer."""
        return {"capacity": self.capacity, "episodes": [asdict(episode) for episode in self._episodes]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a snapshot taken by :meth:`state_dict`."""
        if state["capacity"] != self.capacity:
            raise ValueError(
                f"The checkpoint's replay capacity is {state['capacity']}, this run's is {self.capacity}; "
                "resume with the same configuration."
            )
        self._episodes = deque((Episode(**episode) for episode in state["episodes"]), maxlen=self.capacity or None)
